internal import CCurl

/// Owns one `CURL*` easy handle; the only place libcurl's easy API is called (through the loader of Sources/CCurl).
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?

    /// Loads libcurl first if no request needed it before.
    init() throws(HTTPClientError) {
        guard aios_curl_load() == 1 else {
            throw HTTPClientError(kind: .transport, message: "libcurl (package libcurl4) could not be loaded; requests through a proxy need it")
        }
        guard let handle = aios_curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
    }

    deinit {
        aios_curl_slist_free_all(headerList)
        aios_curl_easy_cleanup(handle)
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(aios_curl_easy_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) throws {
        // libcurl copies string options (since 7.17), so the temporary C string may go away after the call.
        try value.withCString { try check(aios_curl_easy_setopt_string(handle, option, $0), option) }
    }

    func set(_ option: CURLoption, _ pointer: UnsafeMutableRawPointer?) throws {
        try check(aios_curl_easy_setopt_pointer(handle, option, pointer), option)
    }

    func set(_ option: CURLoption, blob bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            try check(aios_curl_easy_setopt_blob(handle, option, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, buffer.count), option)
        }
    }

    /// New TLS connections verify against `store` (shared, read once) instead of libcurl's CA file and directory.
    /// False when this libcurl's TLS backend is not OpenSSL: it then reads its CA file itself, as always.
    func useTrustStore(_ store: LoadedTrustStore) -> Bool {
        aios_curl_easy_use_x509_store(handle, store.pointer) == CURLE_OK
    }

    /// Only http and https, with the option the loaded libcurl understands (see the shim).
    func restrictProtocolsToHTTP() throws {
        try check(aios_curl_easy_restrict_protocols_to_http(handle, Self.hasProtocolsString), CURLOPT_PROTOCOLS_STR)
    }

    /// Asked once per process: the loaded libcurl does not change, and asking formats its whole feature list.
    private static let hasProtocolsString = aios_curl_has_protocols_str()

    func setHeaders(_ headers: [String]) throws {
        aios_curl_slist_free_all(headerList)
        headerList = nil
        for header in headers { headerList = aios_curl_slist_append(headerList, header) }
        try check(aios_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), CURLOPT_HTTPHEADER)
    }

    func setHeaderFunction(_ callback: aios_curl_write_callback, userdata: UnsafeMutableRawPointer?) throws {
        try check(aios_curl_easy_setopt_header_function(handle, callback), CURLOPT_HEADERFUNCTION)
        try check(aios_curl_easy_setopt_header_data(handle, userdata), CURLOPT_HEADERDATA)
    }

    /// Forgets every option set so far but keeps the connection, DNS and TLS session caches, so the next
    /// request to the same host reuses the open connection.
    func reset() {
        aios_curl_slist_free_all(headerList)
        headerList = nil
        aios_curl_easy_reset(handle)
    }

    static var http2OverTLS: Int { Int(aios_curl_http_version_2tls()) }

    func setWriteFunction(_ callback: aios_curl_write_callback) throws {
        try check(aios_curl_easy_setopt_write_function(handle, callback), CURLOPT_WRITEFUNCTION)
    }

    /// Runs the transfer; a non-OK result becomes an `HTTPClientError`.
    func perform() throws(HTTPClientError) {
        let code = aios_curl_easy_perform(handle)
        guard code == CURLE_OK else {
            let kind: HTTPClientError.Kind = switch code {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST: .couldNotConnect
            case CURLE_OPERATION_TIMEDOUT: .timedOut
            default: .transport
            }
            throw HTTPClientError(kind: kind, message: String(cString: aios_curl_easy_strerror(code)))
        }
    }

    func responseCode() -> Int {
        var code = 0
        _ = aios_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw HTTPClientError(kind: .transport, message: "libcurl refused option \(option.rawValue): \(String(cString: aios_curl_easy_strerror(code)))")
        }
    }

    /// Loads libcurl if no request needed it before.
    static var libraryVersion: String { aios_curl_load() == 1 ? String(cString: aios_curl_version()) : "not installed" }

    /// libcurl's compiled-in CA bundle and directory (loads libcurl).
    static var defaultTrust: (file: String?, directory: String?) {
        guard aios_curl_load() == 1 else { return (nil, nil) }
        return (aios_curl_default_ca_file().map { String(cString: $0) }, aios_curl_default_ca_directory().map { String(cString: $0) })
    }
}
