import FoundationEssentials

/// Turns Entra ID's error JSON (`error`, `error_description`, `error_codes`, `trace_id`) into an
/// `AzureAuthError` that says what is wrong and how to fix it. Branches on `error_codes`, never on text.
enum EntraErrorMapper {
    /// What the agent presented, to name it in the message.
    struct Context {
        var tenant: String
        var clientId: String
        /// The claims of the client assertion (federated credential flow), if any.
        var assertionClaims: JWTClaims?
        /// Secrets sent in the request; removed from anything Entra echoes back.
        var secrets: [String]
    }

    /// The issuer K3s signs service-account tokens with until workload identity is enabled.
    static let k3sDefaultIssuer = "https://kubernetes.default.svc.cluster.local"

    static func error(status: Int, body: [UInt8], context: Context) -> AzureAuthError {
        let object = JSONValue.object(parsing: body)
        let oauthError = object?["error"]?.string
        let codes = object?["error_codes"]?.array?.compactMap(\.truncatedInt) ?? []
        let (firstLine, traceInText) = splitDescription(object?["error_description"]?.string ?? "")
        let traceId = object?["trace_id"]?.string ?? traceInText
        let retryable = status == 429 || status >= 500

        let code = codes.first.map { "AADSTS\($0)" } ?? oauthError ?? "http_\(status)"
        let entraSays = redact(firstLine.isEmpty ? (oauthError ?? "HTTP \(status)") : firstLine, context.secrets)
        var message: String
        var hint: String? = nil
        let claims = context.assertionClaims
        let issuer = claims?.issuer ?? "<unknown issuer>"
        let subject = claims?.subject ?? "<unknown subject>"
        let audience = claims.map { $0.audiences.joined(separator: ",") } ?? "<unknown audience>"

        switch codes.first {
        case 70021, 700211, 7002121, 700213:
            // 70021 is the generic code; Entra names the mismatching claim with 700211 (issuer), 7002121 (audience)
            // and 700213 (subject) (learn.microsoft.com/entra/identity-platform/reference-error-codes).
            let which = [700211: " (no credential has this issuer)", 7002121: " (no credential has this audience)",
                         700213: " (no credential has this subject)"][codes.first!] ?? ""
            message = "Entra ID has no federated identity credential on client \(context.clientId) in tenant \(context.tenant) "
                + "matching the presented service-account token\(which): issuer '\(issuer)', subject '\(subject)', audience '\(audience)'."
            if issuer == Self.k3sDefaultIssuer {
                // Federating K3s' built-in issuer is the wrong fix: Entra cannot reach it. The Arc OIDC issuer must sign first.
                message += " The token was signed by K3s' default issuer: workload identity is not enabled on this cluster yet."
                hint = "enable workload identity first: az connectedk8s update --name <CLUSTER> --resource-group <RESOURCE-GROUP> "
                    + "--enable-oidc-issuer --enable-workload-identity, then aiosctl workload-identity enable --issuer <OIDC-ISSUER-URL> "
                    + "(az connectedk8s show --name <CLUSTER> --resource-group <RESOURCE-GROUP> --query oidcIssuerProfile.issuerUrl -o tsv)"
            } else {
                let serviceAccount = subject.split(separator: ":").count == 4 && subject.hasPrefix("system:serviceaccount:")
                    ? String(subject.split(separator: ":")[3]) : "<SERVICE-ACCOUNT>"
                hint = "az identity federated-credential create --name aios-\(serviceAccount) --identity-name <UAMI-NAME> "
                    + "--resource-group <RESOURCE-GROUP> --issuer \(issuer) --subject \(subject) --audience api://AzureADTokenExchange"
            }
        case 700024:
            message = "The service-account token presented to Entra ID is outside its validity window (expired or not yet valid); "
                + "a fresh one is minted for every request, so check the node's clock."
            hint = "check the clock: timedatectl status"
        case 700016:
            message = "Client id \(context.clientId) is not an application or managed identity in tenant \(context.tenant)."
            hint = "check the client id and tenant id in the configuration (the managed identity's clientId, not its principalId)"
        case 90002:
            message = "Tenant \(context.tenant) does not exist in Entra ID."
            hint = "check the tenant id in the configuration"
        case 90061:
            message = "Entra ID could not fetch the OIDC discovery document of issuer '\(issuer)': the issuer URL "
                + "(its /.well-known/openid-configuration and jwks_uri) must be publicly reachable over https."
            hint = "publish the issuer's discovery document and JWKS at a public https URL and set it as the cluster's service-account issuer"
        case 7000215:
            message = "Entra ID rejected the client secret of client \(context.clientId): it is not a valid secret of this application."
            hint = "write the secret's value (not its ID) to the secret file"
        case 7000222:
            message = "The client secret of client \(context.clientId) has expired."
            hint = "create a new secret (az ad app credential reset --id \(context.clientId) --append) and write its value to the secret file"
        case 700027:
            message = "Entra ID could not verify the signature of the presented service-account token (issuer '\(issuer)'): "
                + "the issuer's published JWKS does not contain the key that signed it."
            hint = "republish the issuer's JWKS after a service-account signing key change"
        default:
            message = retryable ? "Entra ID is unavailable (HTTP \(status)): \(entraSays)"
                : "Entra ID refused the token request (HTTP \(status)): \(entraSays)"
        }
        if let traceId, !traceId.isEmpty { message += " (trace id \(traceId))" }
        return AzureAuthError(code: code, message: redact(message, context.secrets), hint: hint.map { redact($0, context.secrets) },
                              isRetryable: retryable, httpStatus: status)
    }

    /// Entra appends "\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …"; keep the first line and the trace id.
    static func splitDescription(_ description: String) -> (firstLine: String, traceId: String?) {
        let lines = description.split(omittingEmptySubsequences: true) { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }
        let first = lines.first.map { String($0).trimmingWhitespace() } ?? ""
        let trace = lines.dropFirst().first { $0.hasPrefix("Trace ID:") }
            .map { String($0.dropFirst("Trace ID:".count)).trimmingWhitespace() }
        return (first, trace)
    }

    static func redact(_ text: String, _ secrets: [String]) -> String {
        secrets.filter { $0.count >= 4 }.reduce(text) { $0.replacingAll($1, with: "[redacted]") }
    }
}
