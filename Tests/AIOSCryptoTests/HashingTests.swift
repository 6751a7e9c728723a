import AIOSCrypto
import AIOSTestSupport
import Dispatch
import Synchronization
import Testing

@Suite(.offCooperativePool) struct HashingTests {
    @Test func sha256() {
        #expect(OpenSSL.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    // RFC 4231, test case 2.
    @Test func hmacSHA256KnownVector() {
        let mac = OpenSSL.hmacSHA256Hex(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        #expect(mac == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    // RFC 4231, test case 1: a 20-byte key of 0x0b.
    @Test func hmacSHA256BinaryKey() {
        let mac = OpenSSL.hmacSHA256Hex(key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8))
        #expect(mac == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test func hmacSHA256EmptyInputs() {
        // HMAC-SHA-256 with an empty key over empty data (a well-known constant).
        #expect(OpenSSL.hmacSHA256Hex(key: [], data: [])
            == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    /// One shared HMAC context is copied for every MAC: keys must not leak from one MAC into the next, also when
    /// threads compute them at once (RFC 4231 cases 1 and 2 interleaved, with the empty key between them).
    @Test func hmacSHA256KeysStaySeparateAcrossThreads() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            ([], [], "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
        ]
        let wrong = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0..<300 {
                let sample = cases[(thread + round) % cases.count]
                if OpenSSL.hmacSHA256Hex(key: sample.key, data: sample.data) != sample.mac { wrong.withLock { $0 += 1 } }
            }
        }
        #expect(wrong.withLock { $0 } == 0)
    }

    @Test func randomBytes() {
        #expect(OpenSSL.randomBytes(count: 0).isEmpty)
        let a = OpenSSL.randomBytes(count: 32), b = OpenSSL.randomBytes(count: 32)
        #expect(a.count == 32)
        #expect(a != b)
    }
}
