/// Prometheus' text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
/// `# HELP` and `# TYPE` once per family, then one line per sample; label values escaped (`\\`, `\"`, `\n`).
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public struct Sample: Sendable, Equatable {
        /// The sample's name: the family's, or for a histogram the family's with `_bucket`, `_sum` or `_count`.
        public var name: String
        public var labels: [(String, String)]
        public var value: Double

        public init(name: String, labels: [(String, String)] = [], value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }

        public static func == (lhs: Sample, rhs: Sample) -> Bool {
            lhs.name == rhs.name && lhs.value == rhs.value && lhs.labels.elementsEqual(rhs.labels) { $0 == $1 }
        }
    }

    public struct Family: Sendable, Equatable {
        public var name: String
        public var help: String
        public var kind: Kind
        public var samples: [Sample]

        public init(name: String, help: String, kind: Kind, samples: [Sample]) {
            self.name = name
            self.help = help
            self.kind = kind
            self.samples = samples
        }
    }

    public static func render(_ families: [Family]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                text += sample.name
                if !sample.labels.isEmpty {
                    text += "{" + sample.labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
                }
                text += " \(format(sample.value))\n"
            }
        }
        return text
    }

    /// Integers without a fraction (counts and Unix times read better), `+Inf`/`-Inf`/`NaN` as Prometheus spells them.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func escapeLabel(_ value: String) -> String {
        value.replacingAll(["\\": "\\\\", "\"": "\\\"", "\n": "\\n"])
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacingAll(["\\": "\\\\", "\n": "\\n"])
    }
}

extension String {
    fileprivate func replacingAll(_ map: [Character: String]) -> String {
        var out = ""
        for character in self { out += map[character] ?? String(character) }
        return out
    }
}
