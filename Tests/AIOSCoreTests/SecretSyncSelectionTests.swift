import AIOSCore
import FoundationEssentials
import Testing

/// Which SecretSyncs a selection leaves out: the answer of `secret list --all` and of doctor's
/// `secretsyncs.selected` (from the watch's view and from a fresh list alike).
struct SecretSyncSelectionTests {
    static func secretSync(_ namespace: String, _ name: String, labels: [String: String] = [:]) -> ClusterObjects.SecretSync {
        let labelJSON = labels.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
        let json = "{\"metadata\": {\"name\": \"\(name)\", \"namespace\": \"\(namespace)\", \"labels\": {\(labelJSON)}}, \"spec\": {}}"
        return ClusterObjects.SecretSync(json: Data(json.utf8))!
    }

    @Test func eachSelectionLeavesOutWhatItShould() {
        let syncs = [Self.secretSync("b", "unlabelled"), Self.secretSync("a", "labelled", labels: ["aios.microsoft.com/agent": "aiosd"]),
                     Self.secretSync("a", "other-value", labels: ["aios.microsoft.com/agent": "someone-else"])]
        var selection = ClusterSyncConfiguration()
        selection.secretSyncs = .labelled
        #expect(selection.unselected(syncs) == ["a/other-value", "b/unlabelled"])
        selection.secretSyncs = .all
        #expect(selection.unselected(syncs).isEmpty)
        selection.secretSyncs = .off
        #expect(selection.unselected(syncs) == ["a/labelled", "a/other-value", "b/unlabelled"])
    }
}
