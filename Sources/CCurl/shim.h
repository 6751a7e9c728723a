// Prefixed, typed wrappers over libcurl's variadic curl_easy_setopt/curl_easy_getinfo, one per
// argument type (the pattern of swift-corelibs-foundation's CFURLSessionInterface).
#ifndef AIOS_CCURL_SHIM_H
#define AIOS_CCURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*aios_curl_write_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable userdata);

static inline CURLcode aios_curl_easy_setopt_long(CURL *_Nonnull handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode aios_curl_easy_setopt_string(CURL *_Nonnull handle, CURLoption option, const char *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode aios_curl_easy_setopt_pointer(CURL *_Nonnull handle, CURLoption option, void *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode aios_curl_easy_setopt_slist(CURL *_Nonnull handle, CURLoption option, struct curl_slist *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode aios_curl_easy_setopt_write_function(CURL *_Nonnull handle, aios_curl_write_callback _Nonnull callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode aios_curl_easy_setopt_header_function(CURL *_Nonnull handle, aios_curl_write_callback _Nonnull callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

/// Restricts a transfer to HTTP and HTTPS, decided at run time against the libcurl actually loaded: the package runs on
/// whatever libcurl the host ships. CURLOPT_PROTOCOLS_STR exists from 7.85; older ones (Ubuntu 22.04 has 7.81) take the
/// bitmask it replaced, which later versions still honour but mark deprecated.
static inline CURLcode aios_curl_easy_restrict_protocols_to_http(CURL *_Nonnull handle) {
    if (curl_version_info(CURLVERSION_NOW)->version_num >= 0x075500)
        return curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return curl_easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#pragma GCC diagnostic pop
}

/// Sets a blob option (certificate, key or CA bundle held in memory; CURLOPT_SSLCERT_BLOB and friends).
/// libcurl copies the bytes, so the caller's buffer may go away after the call.
static inline CURLcode aios_curl_easy_setopt_blob(CURL *_Nonnull handle, CURLoption option, const void *_Nonnull data, size_t length) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = length;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(handle, option, &blob);
}

/// Sets CURLOPT_HEADERDATA, the userdata handed to the header callback.
static inline CURLcode aios_curl_easy_setopt_header_data(CURL *_Nonnull handle, void *_Nullable userdata) {
    return curl_easy_setopt(handle, CURLOPT_HEADERDATA, userdata);
}

static inline long aios_curl_http_version_2tls(void) {
    return CURL_HTTP_VERSION_2TLS;
}

static inline CURLcode aios_curl_easy_getinfo_long(CURL *_Nonnull handle, CURLINFO info, long *_Nonnull value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline const char *_Nonnull aios_curl_version(void) {
    return curl_version_info(CURLVERSION_NOW)->version;
}

#endif
