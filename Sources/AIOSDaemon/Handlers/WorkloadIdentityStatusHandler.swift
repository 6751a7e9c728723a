import AIOSAPI
import AIOSCore

/// `GET /v1/workload-identity`: configured vs running vs served issuer, and the federated-credential command.
struct WorkloadIdentityStatusHandler: APIMethodHandler {
    let method = API.workloadIdentityStatus
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let workflow = operations.k3s()
        let response = try await operations.run { () throws(APIError) -> WorkloadIdentityStatusResponse in
            let status: K3sIssuerStatus
            do throws(K3sChangeError) { status = try workflow.issuerStatus() } catch { throw error.readError }
            let configured = status.configuredIssuers.map { K3sConfigResponse.Value(value: $0.value, from: $0.from) }
            let first = configured[0]
            let credential = FederatedCredential(issuer: status.servedIssuer ?? first.value)
            let enabled = status.servedIssuer != nil && status.servedIssuer == first.value && first.from != "K3s default"
            return WorkloadIdentityStatusResponse(
                configuredIssuers: configured, servedIssuer: status.servedIssuer, servedIssuerError: status.servedIssuerError,
                maxTokenExpiration: status.maxTokenExpiration.map { K3sConfigResponse.Value(value: $0.value, from: $0.from) },
                enabled: enabled, serviceAccount: "\(credential.namespace)/\(credential.serviceAccount)", subject: credential.subject,
                audience: FederatedCredential.audience, federatedCredentialCommand: credential.azCommand,
                runningIssuers: status.runningIssuers, runningMaxTokenExpiration: status.runningMaxTokenExpiration,
                restartPending: status.restartPending)
        }
        return reply(response)
    }
}
