// libFuzzer entry point for every parser of untrusted input (`make fuzz`). Built only with AIOS_FUZZ=1 and
// `-sanitize=fuzzer,address`; `AIOS_FUZZ_TARGET` picks the parser. A crash, a sanitizer report or a hang is a
// finding; a thrown error is the expected outcome for bad input.
import AIOSAPI
@testable import AIOSCore
import AIOSCrypto
@testable import AIOSHTTP
import CAIOSFuzz  // the entry point, aios_fuzz_main
import Foundation

enum FuzzTarget: String, CaseIterable {
    case yaml, config, secretDefinition, k3s, spc, kubeconfig, azureJSON, pem, pkcs12, api, http

    static let current: FuzzTarget = {
        guard let name = ProcessInfo.processInfo.environment["AIOS_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
            fatalError("set AIOS_FUZZ_TARGET to one of: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }()

    func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .yaml:
            for limits in [YAMLLimits.configuration, .kubeconfig, .providerClassObjects] {
                _ = try? YAMLLoader(file: "fuzz.yaml", limits: limits).compose(text)
            }
        case .config:
            _ = try? ConfigurationLoader().parse(text, file: "aiosd.yaml")
        case .secretDefinition:
            _ = try? SyncDefinitionFile.parse(text, file: "secrets.d/fuzz.yaml", name: "fuzz", defaultNamespace: "default")
        case .k3s:
            _ = try? K3sConfigMerger().merge(files: [("config.yaml", text)], environment: [("/etc/default/k3s", text)],
                                              commandLine: text.split(separator: " ").map(String.init))
            _ = K3sSecrets.redact(commandLine: text.split(separator: " ").map(String.init))
        case .spc:
            _ = try? ProviderClassObjects.parse(text, providerClass: "fuzz/spc")
        case .kubeconfig:
            _ = try? Kubeconfig.parse(text, file: "k3s.yaml")
        case .azureJSON:
            let data = Data(bytes)
            _ = TokenResponseParser.parse(bytes, now: Date())
            _ = KeyVaultWire.Bundle(json: bytes)
            _ = JSONTree(parsing: bytes)
            _ = KubernetesClient.LeaseObject.page(bytes)
            _ = KubernetesClient.LeaseObject.watchEvent(bytes)
            _ = KubernetesClient.SecretObject.page(bytes)
            _ = KeyVaultWire.ListResult(json: bytes)
            _ = try? JSONDecoder().decode(KeyVaultWire.ErrorResponse.self, from: data)
            _ = EntraErrorMapper.error(status: 400, body: bytes, context: .init(tenant: "t", clientId: "c", assertionClaims: nil, secrets: ["s"]))
            _ = KeyVaultChallenge.parse(text)
            _ = JWTClaims.decodeUnverified(text)
            _ = LocalListener.parse(text, port: 40342)
        case .pem:
            _ = try? CertificateBundle.fromPEM(text)
        case .pkcs12:
            _ = try? CertificateBundle.fromPKCS12(bytes, password: "")
        case .api:
            let data = Data(bytes)
            let decoder = APICoding.decoder()
            _ = try? decoder.decode(SecretAddRequest.self, from: data)
            _ = try? decoder.decode(SecretRemoveRequest.self, from: data)
            _ = try? decoder.decode(SyncRequest.self, from: data)
            _ = try? decoder.decode(APIServerArgsEditRequest.self, from: data)
            _ = try? decoder.decode(WorkloadIdentityEnableRequest.self, from: data)
            _ = APIText.forbiddenCharacter(in: text)
            _ = try? APIServerArgument(parsing: text).validate()
        case .http:
            // A response read whole and in pieces cut where the input says (its first byte), as reads deliver it.
            let cut = bytes.first.map { Int($0) } ?? 1
            for size in [bytes.count, max(1, cut)] {
                var parser = HTTP1ResponseParser()
                var offset = 0
                var body = 0
                do {
                    while offset < bytes.count, !parser.isComplete {
                        let piece = bytes[offset..<min(bytes.count, offset + size)]
                        let consumed = try piece.withUnsafeBytes { try parser.consume($0) { body += $0.count } }
                        precondition(consumed <= piece.count)
                        offset += consumed
                        if consumed < piece.count { break }
                    }
                    if !parser.isComplete { try parser.endOfStream() }
                } catch {}
            }
            _ = try? RequestTarget(url: text)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.current.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
