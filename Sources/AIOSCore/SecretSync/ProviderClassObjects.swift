import FoundationEssentials
import Synchronization

/// A SecretProviderClass' `parameters.objects`, parsed once per resourceVersion: it is written by any user of its
/// namespace, and read on every sync cycle and every `secret list`.
public final class ProviderClassObjects: Sendable {
    public static let shared = ProviderClassObjects()

    /// Past this many cached classes the cache starts over (it only saves parsing).
    static let capacity = 4096

    private struct Entry {
        var text: String
        var result: Result<[SyncObject], SyncIssue>
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// How many times a text was parsed (not served from the cache).
    let parses = Atomic<Int>(0)

    init() {}

    /// The objects `providerClass` declares, or why they cannot be used.
    public func objects(of providerClass: ClusterObjects.ProviderClass) throws(SyncIssue) -> [SyncObject] {
        let text = providerClass.parameters["objects"] ?? ""
        let key = "\(providerClass.key)@\(providerClass.resourceVersion)"
        if let entry = entries.withLock({ $0[key] }), entry.text == text { return try entry.result.get() }
        let result: Result<[SyncObject], SyncIssue>
        parses.add(1, ordering: .relaxed)
        do {
            result = .success(try Self.parse(text, providerClass: providerClass.key))
        } catch {
            result = .failure(error)
        }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[key] = Entry(text: text, result: result)
        }
        return try result.get()
    }

    /// Parses without caching: a YAML string `array:` of YAML strings, one object each (the Azure provider's format).
    /// Anchors and aliases are refused, and the size, depth and node count bounded, before anything is built.
    static func parse(_ text: String, providerClass: String) throws(SyncIssue) -> [SyncObject] {
        func invalid(_ message: String) -> SyncIssue {
            SyncIssue(code: "SecretProviderClassMisconfigured", message: "SecretProviderClass \(providerClass): \(message)")
        }
        func compose(_ text: String, _ label: String) throws(SyncIssue) -> YAMLNode? {
            do {
                return try YAMLLoader(file: label, limits: .providerClassObjects).compose(text)
            } catch {
                throw invalid(error.description)
            }
        }
        guard let array = try compose(text, "parameters.objects")?.mapping?["array"]?.sequence, !array.isEmpty else {
            throw invalid("parameters.objects: expected a YAML string with \"array:\" and at least one object")
        }
        var objects: [SyncObject] = []
        for (index, element) in array.enumerated() {
            let fields: YAMLNode.Mapping?
            if let text = element.scalar?.string {
                fields = try compose(text, "parameters.objects array[\(index)]")?.mapping
            } else {
                fields = element.mapping
            }
            // The Azure provider trims every string field of an object.
            guard let fields, let name = fields["objectName"]?.scalar?.string.trimmingWhitespaceAndNewlines(),
                  !name.isEmpty else {
                throw invalid("parameters.objects: object \(index) has no objectName")
            }
            objects.append(try object(name, fields, invalid: { invalid("parameters.objects: object \(name): \($0)") }))
        }
        return objects
    }

    private static func object(_ name: String, _ fields: YAMLNode.Mapping, invalid: (String) -> SyncIssue) throws(SyncIssue) -> SyncObject {
        var object = SyncObject(objectName: name)
        func string(_ key: String) -> String? {
            guard let value = fields[key]?.scalar?.string.trimmingWhitespaceAndNewlines(), !value.isEmpty else { return nil }
            return value
        }
        if let type = string("objectType") {
            guard let parsed = SyncObject.ObjectType(rawValue: type.lowercased()) else {
                throw invalid("objectType \"\(type)\" is not supported (secret, cert)")
            }
            object.objectType = parsed
        }
        object.objectVersion = string("objectVersion")
        if let history = string("objectVersionHistory") {
            guard let count = Int(history), (0...25).contains(count) else { throw invalid("objectVersionHistory must be 0 to 25") }
            object.objectVersionHistory = count
        }
        object.objectAlias = string("objectAlias")
        if let encoding = string("objectEncoding") {
            guard let parsed = SyncObject.Encoding(rawValue: encoding.lowercased()) else {
                throw invalid("objectEncoding \"\(encoding)\" is not utf-8, hex or base64")
            }
            object.objectEncoding = parsed
        }
        if let format = string("objectFormat") {
            guard let parsed = SyncObject.Format(rawValue: format.lowercased()) else {
                throw invalid("objectFormat \"\(format)\" is not pem or pfx")
            }
            object.objectFormat = parsed
        }
        return object
    }
}
