import AIOSAPI
import AIOSClient
import ArgumentParser

/// One aiosctl command that asks aiosd: it fetches a result and says how a human reads it. Printing it in the
/// chosen format (`-o text|json|yaml|wide`, `--json`), the exit status, and errors (as JSON or YAML when a
/// document was asked for) are done once, here.
protocol ControlCommand: ParsableCommand {
    associatedtype Result: Encodable
    var global: GlobalOptions { get }
    /// How long to wait for aiosd unless `--timeout` says otherwise.
    static var timeout: DefaultTimeout { get }
    /// Asks aiosd. A command that streams progress shows it through `output` as it comes.
    func run(client: ControlClient, output: CommandOutput) throws -> Result
    /// The summary (`text`), or with more columns and details (`wide`).
    func render(_ result: Result, wide: Bool) -> String
    /// True when the result itself means the operation failed (aiosctl exits 1 after printing it).
    func failed(_ result: Result) -> Bool
}

extension ControlCommand {
    static var timeout: DefaultTimeout { .standard }
    func failed(_ result: Result) -> Bool { false }

    func run() throws {
        let output = CommandOutput(format: global.format)
        let result: Result
        do {
            result = try run(client: global.client(Self.timeout), output: output)
        } catch let error as ClientError {
            throw Output.fail(error, format: output.format)
        }
        if !output.streamed {
            switch output.format {
            case .json, .yaml:
                guard let document = StructuredOutput.document(result, format: output.format) else {
                    throw Output.fail(ClientError(kind: .failed, message: "cannot print the result as \(output.format.rawValue)"), format: .text)
                }
                Output.print(document)
            case .text, .wide:
                let text = render(result, wide: output.format == .wide)
                if !text.isEmpty { Output.print(text) }
            }
        }
        if failed(result) { throw ExitCode(ExitStatus.failed) }
    }
}

/// The chosen format, and whether a streaming command already printed its document (NDJSON events).
final class CommandOutput {
    let format: OutputFormat
    /// Set when the events were printed as they came: the final result is not printed again.
    var streamed = false

    init(format: OutputFormat) { self.format = format }
}
