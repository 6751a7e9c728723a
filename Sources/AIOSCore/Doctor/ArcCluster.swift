import FoundationEssentials

/// The Azure Arc resource of this cluster, as the Arc agents know it, and the OIDC issuer Azure reports for it.
///
/// Arc's agents keep the resource's coordinates in the ConfigMap `azure-clusterconfig` of namespace `azure-arc`
/// (`AZURE_SUBSCRIPTION_ID`, `AZURE_RESOURCE_GROUP`, `AZURE_RESOURCE_NAME`; the names azure-iot-ops-cli and
/// azext_connectedk8s read). The issuer is `properties.oidcIssuerProfile.issuerUrl` of the `connectedClusters`
/// resource (ARM REST: GET .../providers/Microsoft.Kubernetes/connectedClusters/{name}, api-version
/// 2024-07-15-preview; https://learn.microsoft.com/en-us/javascript/api/@azure/arm-hybridkubernetes/oidcissuerprofile).
public struct ArcCluster: Sendable, Equatable {
    public static let configMapPath = "/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig"
    public static let apiVersion = "2024-07-15-preview"
    public static let armResource = "https://management.azure.com"

    public var subscriptionId: String
    public var resourceGroup: String
    public var name: String

    public init(subscriptionId: String, resourceGroup: String, name: String) {
        self.subscriptionId = subscriptionId
        self.resourceGroup = resourceGroup
        self.name = name
    }

    /// From the ConfigMap's JSON; nil when a coordinate is missing or not a plain ARM name.
    public static func fromConfigMap(_ json: Data) -> ArcCluster? {
        guard let data = JSONValue.object(parsing: json)?["data"],
              let subscription = data["AZURE_SUBSCRIPTION_ID"]?.string, let group = data["AZURE_RESOURCE_GROUP"]?.string,
              let name = data["AZURE_RESOURCE_NAME"]?.string,
              [subscription, group, name].allSatisfy(isARMName) else { return nil }
        return ArcCluster(subscriptionId: subscription, resourceGroup: group, name: name)
    }

    /// Letters, digits and `-_.()` (ARM's resource group and cluster names): safe in a URL path and a shell command.
    static func isARMName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 90 && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.()".unicodeScalars.contains($0)
        }
    }

    /// The ARM resource id (the scope of a role assignment on the cluster).
    public var resourceId: String {
        "/subscriptions/\(subscriptionId)/resourceGroups/\(resourceGroup)/providers/Microsoft.Kubernetes/connectedClusters/\(name)"
    }

    public var resourceURL: String {
        "\(Self.armResource)\(resourceId)?api-version=\(Self.apiVersion)"
    }

    /// `properties.oidcIssuerProfile.issuerUrl` of the resource's JSON, when the OIDC issuer is enabled.
    public static func issuerURL(_ json: Data) -> String? {
        guard let url = JSONValue.object(parsing: json)?["properties"]?["oidcIssuerProfile"]?["issuerUrl"]?.string,
              url.hasPrefix("https://") else { return nil }
        return url
    }
}
