// Written by `make version`; keep in step with the VERSION file.
enum BuildInfo {
    static let version = "0.1.0"
}
