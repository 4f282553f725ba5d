// credential_chain.cpp -- see credential_chain.hpp.
#include "store/azure/credential_chain.hpp"

namespace arraymorph::azure {
namespace {

Status missing(const std::string& kind, const std::string& what) {
  return invalid_argument("Azure: ARRAYMORPH_AZURE_CREDENTIAL=" + kind + " needs " + what);
}

}  // namespace

Result<AzureAuth> choose_credential(const AzureConfig& c, const net::TransportOptions& transport,
                                    const RetryPolicy& retry,
                                    std::shared_ptr<net::HttpTransport> token_transport) {
  ConnectionInfo info;
  if (!c.connection_string.empty()) {
    Result<ConnectionInfo> parsed = parse_connection_string(c.connection_string);
    if (!parsed.ok()) return parsed.status();
    info = std::move(parsed.value());
  } else if (!c.account.empty()) {
    info.account = c.account;
    info.blob_endpoint = "https://" + c.account + ".blob.core.windows.net";
  } else {
    return invalid_argument(
        "Azure: neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_ACCOUNT is set (e.g. "
        "\"DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...\", or "
        "\"UseDevelopmentStorage=true\" for Azurite)");
  }
  if (info.account.empty()) info.account = account_from_endpoint(info.blob_endpoint);

  AzureAuth auth;
  const std::string sas = !c.sas_token.empty() ? normalize_sas(c.sas_token) : info.sas_token;
  const bool has_key = !info.account_key.empty();
  const bool has_sp = !c.tenant_id.empty() && !c.client_id.empty() && !c.client_secret.empty();
  const bool has_wi = !c.tenant_id.empty() && !c.client_id.empty() && !c.federated_token_file.empty();
  const bool has_mi = !c.identity_endpoint.empty() || !c.imds_endpoint.empty();

  std::string kind = c.credential.empty() ? "auto" : c.credential;
  if (kind == "auto") {
    kind = has_key ? "shared_key" : !sas.empty() ? "sas" : has_sp ? "client_secret"
         : has_wi ? "workload_identity" : has_mi ? "managed_identity" : "";
    if (kind.empty())
      return invalid_argument(
          "Azure: no credentials: AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor "
          "SharedAccessSignature, AZURE_STORAGE_SAS_TOKEN is not set, and no token source is "
          "configured (AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or "
          "AZURE_FEDERATED_TOKEN_FILE, or ARRAYMORPH_AZURE_CREDENTIAL=managed_identity)");
  }
  auth.kind = kind;
  auto client = [&] { return std::make_shared<TokenClient>(transport, retry, token_transport); };
  if (kind == "shared_key") {
    if (!has_key) return missing(kind, "AccountKey in AZURE_STORAGE_CONNECTION_STRING");
    auth.decoded_key = info.account_key;
  } else if (kind == "sas") {
    if (sas.empty())
      return missing(kind, "SharedAccessSignature in AZURE_STORAGE_CONNECTION_STRING or "
                           "AZURE_STORAGE_SAS_TOKEN");
    auth.sas_token = sas;
  } else if (kind == "client_secret" || kind == "workload_identity") {
    const bool secret = kind == "client_secret";
    if (c.tenant_id.empty() || c.client_id.empty() ||
        (secret ? c.client_secret.empty() : c.federated_token_file.empty()))
      return missing(kind, std::string("AZURE_TENANT_ID, AZURE_CLIENT_ID and ") +
                               (secret ? "AZURE_CLIENT_SECRET" : "AZURE_FEDERATED_TOKEN_FILE"));
    EntraOptions o;
    o.authority_host = c.authority_host;
    o.tenant_id = c.tenant_id;
    o.client_id = c.client_id;
    if (secret) o.client_secret = c.client_secret;
    else o.federated_token_file = c.federated_token_file;
    auth.tokens = std::make_shared<TokenCache>(make_entra_source(std::move(o), client()));
  } else if (kind == "managed_identity") {
    if (!c.identity_endpoint.empty() && c.identity_header.empty())
      return missing(kind, "IDENTITY_HEADER with IDENTITY_ENDPOINT");
    ManagedIdentityOptions o;
    o.imds_endpoint = c.imds_endpoint;
    o.identity_endpoint = c.identity_endpoint;
    o.identity_header = c.identity_header;
    o.client_id = c.client_id;
    auth.tokens = std::make_shared<TokenCache>(make_managed_identity_source(std::move(o), client()));
  } else {
    return invalid_argument("Azure: unknown ARRAYMORPH_AZURE_CREDENTIAL '" + kind + "'");
  }
  info.account_key.clear();
  info.sas_token.clear();
  auth.endpoint = std::move(info);
  return auth;
}

}  // namespace arraymorph::azure
