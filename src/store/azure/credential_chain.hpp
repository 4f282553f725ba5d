// credential_chain.hpp -- which Azure credential a store uses, from its configuration.
//
// azure.credential (ARRAYMORPH_AZURE_CREDENTIAL) names one source, or "auto" (default) takes the
// first that is configured, in this order:
//   shared_key         AccountKey in the connection string
//   sas                SharedAccessSignature in the connection string, or AZURE_STORAGE_SAS_TOKEN
//   client_secret      AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET (service principal)
//   workload_identity  AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_FEDERATED_TOKEN_FILE
//   managed_identity   IDENTITY_ENDPOINT (+ IDENTITY_HEADER) or AZURE_POD_IDENTITY_AUTHORITY_HOST
// "auto" never probes the VM metadata address on its own (a machine without it would wait for a
// connect timeout on every open): on an Azure VM, say azure.credential=managed_identity.
// The last three send "Authorization: Bearer" tokens (token_credential.hpp), refreshed before
// they expire.
//
// The endpoint comes from the connection string, else from AZURE_STORAGE_ACCOUNT
// (https://<account>.blob.core.windows.net).
//
// Errors name the missing variable, never a secret. Thread-safety: pure function; the returned
// TokenCache is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/config.hpp"
#include "common/status.hpp"
#include "net/transport.hpp"
#include "store/azure/connection_string.hpp"
#include "store/azure/token_credential.hpp"

namespace arraymorph::azure {

struct AzureAuth {
  std::string kind;              // one of the azure.credential names above (never "auto")
  ConnectionInfo endpoint;       // account and blob endpoint (credential fields cleared)
  std::string decoded_key;       // shared_key. Secret.
  std::string sas_token;         // sas, without '?'. Secret.
  std::shared_ptr<TokenCache> tokens;  // the bearer-token kinds
};

// `transport` carries the store's timeouts and CA bundle for the token requests; `token_transport`
// (tests) replaces the libcurl transport the token client would create.
Result<AzureAuth> choose_credential(const AzureConfig& config, const net::TransportOptions& transport,
                                    const RetryPolicy& retry,
                                    std::shared_ptr<net::HttpTransport> token_transport = nullptr);

}  // namespace arraymorph::azure
