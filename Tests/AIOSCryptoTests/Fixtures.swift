import AIOSTestSupport
import Foundation

/// A root CA, an intermediate and a leaf signed by it, made with the `openssl` tool at test time.
/// Everything is read into memory and the directory removed, so the fixture can be shared.
struct PKI: Sendable {
    enum KeyKind: String, Sendable, CaseIterable, CustomStringConvertible {
        case rsa, ec
        var description: String { rawValue }
    }

    let rootPEM: String
    let intermediatePEM: String
    let leafPEM: String
    /// The leaf's key as PKCS#8, as `openssl req` writes it.
    let leafKeyPEM: String
    /// The same key in the traditional form (`RSA PRIVATE KEY` / `EC PRIVATE KEY`).
    let leafTraditionalKeyPEM: String
    /// A key that belongs to none of the certificates.
    let strayKeyPEM: String
    /// A self-signed certificate unrelated to the chain.
    let unrelatedPEM: String
    /// Key, leaf and chain as PFX: OpenSSL 3 defaults (AES-256-CBC, SHA-256 MAC), empty password.
    let pfx: [UInt8]
    /// The same with 3DES and a SHA-1 MAC, as older tools wrote them.
    let pfx3DES: [UInt8]
    /// The same with RC2-40 for the certificates (`-legacy`): needs OpenSSL's legacy provider.
    let pfxRC2: [UInt8]
    /// The same with the password "secret".
    let pfxWithPassword: [UInt8]

    static let rsa = try! PKI(.rsa)
    static let ec = try! PKI(.ec)
    static func of(_ kind: KeyKind) -> PKI { kind == .rsa ? rsa : ec }

    init(_ kind: KeyKind) throws {
        let directory = try TemporaryDirectory(prefix: "aios-pki")
        defer { directory.remove() }
        let newKey = kind == .rsa ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        try directory.write("ext.cnf", """
            [ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            [leaf]
            basicConstraints = CA:FALSE
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:node.example
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            """)
        func file(_ name: String) -> String { directory.file(name) }

        // Self-signed roots: the CA one and an unrelated one.
        for name in ["root", "unrelated"] {
            try openssl(["req", "-x509", "-new"] + newKey + [
                "-noenc", "-keyout", file("\(name).key"), "-out", file("\(name).crt"), "-subj", "/CN=Test \(name)",
                "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        // Intermediate signed by the root, leaf signed by the intermediate.
        for (name, issuer, section) in [("intermediate", "root", "ca"), ("leaf", "intermediate", "leaf")] {
            try openssl(["req", "-new"] + newKey + [
                "-noenc", "-keyout", file("\(name).key"), "-out", file("\(name).csr"), "-subj", "/CN=Test \(name)",
            ])
            try openssl([
                "x509", "-req", "-in", file("\(name).csr"), "-CA", file("\(issuer).crt"), "-CAkey", file("\(issuer).key"),
                "-set_serial", "\(Int.random(in: 1000...999_999))", "-days", "2",
                "-extfile", file("ext.cnf"), "-extensions", section, "-out", file("\(name).crt"),
            ])
        }
        try openssl(["pkey", "-in", file("leaf.key"), "-traditional", "-out", file("leaf-traditional.key")])
        try openssl(["genpkey"] + (kind == .rsa
            ? ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
            : ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]) + ["-out", file("stray.key")])

        let chain = try String(contentsOfFile: file("intermediate.crt"), encoding: .utf8)
            + String(contentsOfFile: file("root.crt"), encoding: .utf8)
        try directory.write("chain.crt", chain)
        let export = ["pkcs12", "-export", "-inkey", file("leaf.key"), "-in", file("leaf.crt"), "-certfile", file("chain.crt")]
        try openssl(export + ["-passout", "pass:", "-out", file("default.pfx")])
        try openssl(export + ["-passout", "pass:", "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES",
                              "-macalg", "sha1", "-out", file("3des.pfx")])
        try openssl(export + ["-passout", "pass:", "-legacy", "-out", file("rc2.pfx")])
        try openssl(export + ["-passout", "pass:secret", "-out", file("password.pfx")])

        func text(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }
        func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: file(name)))) }
        rootPEM = try text("root.crt")
        intermediatePEM = try text("intermediate.crt")
        leafPEM = try text("leaf.crt")
        leafKeyPEM = try text("leaf.key")
        leafTraditionalKeyPEM = try text("leaf-traditional.key")
        strayKeyPEM = try text("stray.key")
        unrelatedPEM = try text("unrelated.crt")
        pfx = try bytes("default.pfx")
        pfx3DES = try bytes("3des.pfx")
        pfxRC2 = try bytes("rc2.pfx")
        pfxWithPassword = try bytes("password.pfx")
    }
}

struct OpenSSLToolError: Error, CustomStringConvertible {
    var description: String
}

private func openssl(_ arguments: [String]) throws {
    let result = try runProcess("/usr/bin/openssl", arguments)
    guard result.status == 0 else {
        throw OpenSSLToolError(description: "openssl \(arguments.joined(separator: " ")): \(result.stderr)")
    }
}
