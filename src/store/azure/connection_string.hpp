// connection_string.hpp -- parsing of Azure Storage connection strings.
//
// Understands the keys the Azure SDKs document for the Blob service: AccountName, AccountKey,
// BlobEndpoint, DefaultEndpointsProtocol, EndpointSuffix, SharedAccessSignature and the
// emulator shortcut UseDevelopmentStorage=true (Azurite's well-known account on
// 127.0.0.1:10000). Other keys (QueueEndpoint, ...) are accepted and ignored, as the SDKs do.
//
// Secrets (AccountKey, SharedAccessSignature) are kept in the returned value but never appear in
// any error message: errors name the missing or malformed *field*.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>

#include "common/status.hpp"

namespace arraymorph::azure {

struct ConnectionInfo {
  std::string account;        // AccountName (may be empty with a SAS and an explicit endpoint)
  std::string account_key;    // decoded AccountKey bytes; empty when authorised by SAS. Secret.
  std::string sas_token;      // without the leading '?'; empty when authorised by Shared Key. Secret.
  // Blob service endpoint without a trailing '/': "https://acct.blob.core.windows.net" or, for
  // the emulator (path-style), "http://127.0.0.1:10000/devstoreaccount1".
  std::string blob_endpoint;
  bool use_tls = true;        // false only when the endpoint scheme is http
};

// The emulator's published, well-known account and key (not a secret).
inline constexpr const char* kDevStoreAccount = "devstoreaccount1";
inline constexpr const char* kDevStoreKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// Parses "Key=Value;Key=Value". Values may contain '=' (base64 keys, SAS tokens). Key names are
// matched case-insensitively. Errors (kInvalidArgument) name the field and the variable
// AZURE_STORAGE_CONNECTION_STRING, never a value.
Result<ConnectionInfo> parse_connection_string(const std::string& text);

// The account an endpoint names, for messages when a SAS connection string has no AccountName:
// "https://acct.blob.core.windows.net" -> "acct"; path-style "http://127.0.0.1:10000/acct" ->
// "acct"; "" when neither form applies.
std::string account_from_endpoint(const std::string& blob_endpoint);

// Strips a leading '?' from a SAS token ("?sv=...&sig=..." and "sv=..." are both accepted).
std::string normalize_sas(const std::string& token);

// Appends a SAS token to a URL that may already carry a query ("...?comp=list").
std::string append_sas(const std::string& url, const std::string& sas_token);

}  // namespace arraymorph::azure
