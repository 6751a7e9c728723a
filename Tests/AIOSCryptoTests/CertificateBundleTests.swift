import AIOSCrypto
import AIOSTestSupport
import Testing
import Foundation

@Suite(.offCooperativePool) struct CertificateBundleTests {
    /// What every successful read of the fixture must give: PKCS#8 key, leaf → intermediate → root.
    func expectOrdered(_ bundle: CertificateBundle, _ pki: PKI, extra: [String] = []) {
        #expect(bundle.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(bundle.privateKeyPEM == pki.leafKeyPEM)
        #expect(bundle.certificatesPEM == [pki.leafPEM, pki.intermediatePEM, pki.rootPEM] + extra)
        #expect(bundle.leafCertificatePEM == pki.leafPEM)
        #expect(bundle.tlsCertificatePEM == ([pki.leafPEM, pki.intermediatePEM, pki.rootPEM] + extra).joined())
    }

    @Test(arguments: PKI.KeyKind.allCases)
    func shuffledPEMBundleComesOutLeafFirst(kind: PKI.KeyKind) throws {
        let pki = PKI.of(kind)
        let text = pki.rootPEM + pki.leafPEM + pki.leafKeyPEM + pki.intermediatePEM
        expectOrdered(try CertificateBundle.fromPEM(text), pki)
    }

    @Test(arguments: PKI.KeyKind.allCases)
    func traditionalKeyIsReencodedAsPKCS8(kind: PKI.KeyKind) throws {
        let pki = PKI.of(kind)
        #expect(pki.leafTraditionalKeyPEM.hasPrefix(kind == .rsa ? "-----BEGIN RSA PRIVATE KEY" : "-----BEGIN EC PRIVATE KEY"))
        let text = pki.leafTraditionalKeyPEM + pki.intermediatePEM + pki.leafPEM + pki.rootPEM
        expectOrdered(try CertificateBundle.fromPEM(text), pki)
    }

    @Test func crlfLineEndingsAndSurroundingTextAreAccepted() throws {
        let pki = PKI.rsa
        let text = "Bag Attributes: none\n" + pki.leafKeyPEM + pki.leafPEM + pki.intermediatePEM + pki.rootPEM
        expectOrdered(try CertificateBundle.fromPEM(text.replacingOccurrences(of: "\n", with: "\r\n")), pki)
    }

    @Test(arguments: PKI.KeyKind.allCases)
    func unrelatedCertificateGoesLast(kind: PKI.KeyKind) throws {
        let pki = PKI.of(kind)
        let text = pki.unrelatedPEM + pki.rootPEM + pki.leafKeyPEM + pki.intermediatePEM + pki.leafPEM
        expectOrdered(try CertificateBundle.fromPEM(text), pki, extra: [pki.unrelatedPEM])
    }

    @Test func incompleteChainKeepsTheRestInOrder() throws {
        let pki = PKI.ec
        // No intermediate: the root cannot be linked, so it stays after the leaf in input order.
        let bundle = try CertificateBundle.fromPEM(pki.rootPEM + pki.unrelatedPEM + pki.leafPEM + pki.leafKeyPEM)
        #expect(bundle.certificatesPEM == [pki.leafPEM, pki.rootPEM, pki.unrelatedPEM])
    }

    @Test(arguments: PKI.KeyKind.allCases)
    func pkcs12WithEmptyPasswordMatchesPEM(kind: PKI.KeyKind) throws {
        let pki = PKI.of(kind)
        expectOrdered(try CertificateBundle.fromPKCS12(pki.pfx), pki)
    }

    @Test(arguments: PKI.KeyKind.allCases)
    func legacy3DESPKCS12Reads(kind: PKI.KeyKind) throws {
        let pki = PKI.of(kind)
        expectOrdered(try CertificateBundle.fromPKCS12(pki.pfx3DES), pki)
    }

    @Test func pkcs12WithPasswordReadsWithIt() throws {
        expectOrdered(try CertificateBundle.fromPKCS12(PKI.rsa.pfxWithPassword, password: "secret"), PKI.rsa)
    }

    // MARK: Errors

    func error(_ body: () throws(CertificateError) -> CertificateBundle) -> CertificateError? {
        do {
            let bundle = try body()
            Issue.record("expected an error, got \(bundle)")
            return nil
        } catch {
            expectNoSecrets(error)
            return error
        }
    }

    /// No PEM armour and no line of any key's body in a message.
    func expectNoSecrets(_ error: CertificateError) {
        #expect(!error.description.contains("BEGIN"))
        #expect(!error.description.contains("-----"))
        for pki in [PKI.rsa, PKI.ec] {
            for key in [pki.leafKeyPEM, pki.leafTraditionalKeyPEM, pki.strayKeyPEM] {
                for line in key.split(separator: "\n") where !line.hasPrefix("-----") {
                    #expect(!error.description.contains(line))
                }
            }
        }
    }

    @Test func pkcs12WithAPasswordFailsWithEmptyPassword() {
        let failure = error { () throws(CertificateError) in try CertificateBundle.fromPKCS12(PKI.rsa.pfxWithPassword) }
        #expect(failure?.description == "the PKCS#12 MAC does not verify with an empty password")
        let wrong = error { () throws(CertificateError) in
            try CertificateBundle.fromPKCS12(PKI.rsa.pfxWithPassword, password: "wrong")
        }
        #expect(wrong?.description == "the PKCS#12 MAC does not verify with the given password")
    }

    @Test func rc2PKCS12NamesTheLegacyProvider() {
        let failure = error { () throws(CertificateError) in try CertificateBundle.fromPKCS12(PKI.ec.pfxRC2) }
        #expect(failure?.description.contains("legacy provider") == true)
        #expect(failure?.description.contains("RC2") == true)
    }

    @Test func garbageIsRejected() {
        let pem = error { () throws(CertificateError) in try CertificateBundle.fromPEM("not a certificate at all") }
        #expect(pem?.description == "no private key in the PEM bundle")
        let empty = error { () throws(CertificateError) in try CertificateBundle.fromPEM("") }
        #expect(empty?.description == "no private key in the PEM bundle")
        let der = error { () throws(CertificateError) in try CertificateBundle.fromPKCS12(Array("garbage".utf8)) }
        #expect(der?.description.hasPrefix("the data is not a PKCS#12 file") == true)
        let none = error { () throws(CertificateError) in try CertificateBundle.fromPKCS12([]) }
        #expect(none?.description == "the PKCS#12 file is empty")
        // A PEM file handed to the PKCS#12 reader.
        let swapped = error { () throws(CertificateError) in
            try CertificateBundle.fromPKCS12(Array((PKI.rsa.leafKeyPEM + PKI.rsa.leafPEM).utf8))
        }
        #expect(swapped?.description.hasPrefix("the data is not a PKCS#12 file") == true)
    }

    @Test func malformedBlocksAreRejected() {
        let pki = PKI.rsa
        let badBase64 = "-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n-----END CERTIFICATE-----\n"
        let block = error { () throws(CertificateError) in try CertificateBundle.fromPEM(pki.leafKeyPEM + badBase64) }
        #expect(block?.description.hasPrefix("the PEM bundle has a malformed PEM block") == true)
        let notDER = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n"
        let certificate = error { () throws(CertificateError) in try CertificateBundle.fromPEM(pki.leafKeyPEM + notDER) }
        #expect(certificate?.description.hasPrefix("a certificate in the PEM bundle does not parse") == true)
        let badKey = "-----BEGIN PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END PRIVATE KEY-----\n"
        let key = error { () throws(CertificateError) in try CertificateBundle.fromPEM(badKey + pki.leafPEM) }
        #expect(key?.description.hasPrefix("the private key in the PEM bundle does not parse") == true)
    }

    @Test func missingPartsAreNamed() {
        let pki = PKI.rsa
        let noKey = error { () throws(CertificateError) in
            try CertificateBundle.fromPEM(pki.leafPEM + pki.intermediatePEM)
        }
        #expect(noKey?.description == "no private key in the PEM bundle")
        let noCertificate = error { () throws(CertificateError) in try CertificateBundle.fromPEM(pki.leafKeyPEM) }
        #expect(noCertificate?.description == "no certificate in the PEM bundle")
        let twoKeys = error { () throws(CertificateError) in
            try CertificateBundle.fromPEM(pki.leafKeyPEM + pki.strayKeyPEM + pki.leafPEM)
        }
        #expect(twoKeys?.description == "more than one private key in the PEM bundle")
    }

    @Test(arguments: PKI.KeyKind.allCases)
    func keyMatchingNoCertificateIsRejected(kind: PKI.KeyKind) {
        let pki = PKI.of(kind)
        let failure = error { () throws(CertificateError) in
            try CertificateBundle.fromPEM(pki.strayKeyPEM + pki.leafPEM + pki.intermediatePEM + pki.rootPEM)
        }
        #expect(failure?.description == "no certificate in the PEM bundle matches the private key")
    }

    @Test func encryptedKeysAreNamed() {
        let pki = PKI.rsa
        let pkcs8 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END ENCRYPTED PRIVATE KEY-----\n"
        let failure = error { () throws(CertificateError) in try CertificateBundle.fromPEM(pkcs8 + pki.leafPEM) }
        #expect(failure?.description == "the private key in the PEM bundle is encrypted")
    }

    @Test func descriptionsRedactTheKey() throws {
        let bundle = try CertificateBundle.fromPEM(PKI.ec.leafKeyPEM + PKI.ec.leafPEM)
        for text in [String(describing: bundle), String(reflecting: bundle), { var s = ""; dump(bundle, to: &s); return s }()] {
            #expect(!text.contains("PRIVATE KEY"))
        }
    }
}

@Suite(.offCooperativePool) struct CertificateNotAfterTests {
    /// The fixture's certificates are made with `-days 2`.
    @Test(arguments: PKI.KeyKind.allCases)
    func readsTheLeafNotAfterFromPEMAndPKCS12(_ kind: PKI.KeyKind) throws {
        let pki = PKI.of(kind)
        let expected = Int(Date().timeIntervalSince1970) + 2 * 86400
        let fromPEM = try CertificateBundle.fromPEM(pki.leafKeyPEM + pki.rootPEM + pki.leafPEM + pki.intermediatePEM)
        let fromPFX = try CertificateBundle.fromPKCS12(pki.pfx)
        for notAfter in [fromPEM.leafNotAfter, fromPFX.leafNotAfter] {
            let value = try #require(notAfter)
            #expect(abs(value - expected) < 600, "notAfter \(value), expected about \(expected)")
        }
        #expect(CertificateBundle(privateKeyPEM: "", certificatesPEM: []).leafNotAfter == nil)
    }
}
