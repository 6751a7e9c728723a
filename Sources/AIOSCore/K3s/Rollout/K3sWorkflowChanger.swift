/// A rollout's change made on this host by the single-host workflow, with all its checks and its rollback.
public struct K3sWorkflowChanger: K3sLocalChanger {
    public let workflow: K3sChangeWorkflow
    public let observer: K3sChangeObserver

    public init(workflow: K3sChangeWorkflow, observer: K3sChangeObserver) {
        self.workflow = workflow
        self.observer = observer
    }

    public func apply(_ change: K3sDesiredChange) -> K3sLocalChangeResult {
        do throws(K3sChangeError) {
            let outcome = try run(change)
            guard outcome.changed else { return K3sLocalChangeResult(state: .done, changed: false, message: "nothing to do: \(outcome.dropIn) already says this") }
            return K3sLocalChangeResult(state: .done, changed: true, message: outcome.servedIssuer.map { "the API server serves \($0)" })
        } catch {
            switch error.kind {
            case .refused, .invalidConfiguration:
                return K3sLocalChangeResult(state: .refused, message: error.message)
            case .failed, .systemd, .internal:
                return K3sLocalChangeResult(state: error.rolledBack == true ? .rolledBack : .failed, message: error.message)
            }
        }
    }

    private func run(_ change: K3sDesiredChange) throws(K3sChangeError) -> K3sChangeWorkflow.Outcome {
        let force = change.force ?? false
        switch change.kind {
        case .enableWorkloadIdentity:
            return try workflow.enableWorkloadIdentity(issuer: change.issuer ?? "", maxTokenExpiration: change.maxTokenExpiration, force: force,
                                                       observer: observer)
        case .disableWorkloadIdentity:
            return try workflow.disableWorkloadIdentity(force: force, observer: observer)
        case .editAPIServerArguments:
            return try workflow.editAPIServerArguments(set: (change.set ?? []).map(APIServerArgument.init(parsing:)), unset: change.unset ?? [],
                                                       force: force, observer: observer)
        }
    }
}
