/// The version of this build. `make` and the package build set it from `VERSION` via a generated file;
/// this default is what a plain `swift build` reports.
public enum AgentVersion {
    public static let current: String = BuildInfo.version
}
