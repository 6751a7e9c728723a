import AIOSCore
import ArgumentParser
import FoundationEssentials

/// `aiosd --check-config [FILE]`: loads the file and its drop-ins exactly as a start or a reload would, says which
/// files it read and whether they are valid, and exits. Never talks to a running daemon.
enum ConfigurationCheck {
    static func run(path: String) throws -> Never {
        do {
            let files = try ConfigurationLoader.files(path: path)
            _ = try ConfigurationLoader().load(path: path)
            let read = files.isEmpty ? "no file (defaults)" : files.map(\.path).joined(separator: ", ")
            print("\(path): configuration valid (read: \(read))")
            throw ExitCode.success
        } catch let error as ConfigurationError {
            StandardError.write("aiosd: \(error.description)\n")
            throw ExitCode(78)  // EX_CONFIG, as at start
        }
    }
}
