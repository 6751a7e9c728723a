import AIOSAPI
import AIOSCore

/// `GET /v1/workload-identity`: configured vs served issuer, and the federated-credential command.
struct WorkloadIdentityStatusHandler: APIHandler {
    let endpoint = Endpoint.workloadIdentityStatus
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let response = try await operations.run { () throws(APIError) -> WorkloadIdentityStatusResponse in
            let snapshot = try K3sConfigSnapshot.read()
            let arguments = snapshot.effective.setting("kube-apiserver-arg")?.values ?? []
            let parsed = arguments.map { (value: $0, argument: APIServerArgument(parsing: $0.value)) }
            var issuers = parsed.filter { $0.argument.flagName == "service-account-issuer" }
                .map { K3sConfigResponse.Value(value: $0.argument.value, from: $0.value.location) }
            if issuers.isEmpty {
                issuers = [K3sConfigResponse.Value(value: WorkloadIdentityPlanner.defaultIssuer, from: "K3s default")]
            }
            let expiration = parsed.last { $0.argument.flagName == "service-account-max-token-expiration" }
                .map { K3sConfigResponse.Value(value: $0.argument.value, from: $0.value.location) }

            var served: String?
            var servedError: String?
            do {
                served = try K3sAPIClient(kubeconfig: try Kubeconfig.load()).servedIssuer()
            } catch let error as K3sAPIClient.Failure {
                servedError = error.description
            } catch {
                servedError = "\(error)"
            }
            let credential = FederatedCredential(issuer: served ?? issuers[0].value)
            let enabled = served != nil && served == issuers[0].value && issuers[0].value != WorkloadIdentityPlanner.defaultIssuer
            return WorkloadIdentityStatusResponse(
                configuredIssuers: issuers, servedIssuer: served, servedIssuerError: servedError, maxTokenExpiration: expiration,
                enabled: enabled, serviceAccount: "\(credential.namespace)/\(credential.serviceAccount)", subject: credential.subject,
                audience: FederatedCredential.audience, federatedCredentialCommand: credential.azCommand)
        }
        return .json(response)
    }
}
