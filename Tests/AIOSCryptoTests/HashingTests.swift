import AIOSCrypto
import Testing

@Suite struct HashingTests {
    @Test func sha256() {
        #expect(OpenSSL.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
