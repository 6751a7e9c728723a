/// Where K3s lives on a host installed with K3s' own installer.
public enum K3sDefaults {
    public static let unit = K3sChangeWorkflow.unitName
}
