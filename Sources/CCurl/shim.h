// Prefixed, typed wrappers over libcurl's variadic curl_easy_setopt/curl_easy_getinfo, one per
// argument type (the pattern of swift-corelibs-foundation's CFURLSessionInterface).
#ifndef AIOS_CCURL_SHIM_H
#define AIOS_CCURL_SHIM_H

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

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

/// True when the libcurl actually loaded has CURLOPT_PROTOCOLS_STR (7.85 and later): the package runs on whatever
/// libcurl the host ships. Asked once by the caller: curl_version_info formats its whole feature list at every call.
static inline int aios_curl_has_protocols_str(void) {
    return curl_version_info(CURLVERSION_NOW)->version_num >= 0x075500;
}

/// Restricts a transfer to HTTP and HTTPS. Older libcurls than 7.85 (Ubuntu 22.04 has 7.81) take the bitmask
/// CURLOPT_PROTOCOLS_STR replaced, which later versions still honour but mark deprecated.
static inline CURLcode aios_curl_easy_restrict_protocols_to_http(CURL *_Nonnull handle, int has_protocols_str) {
    if (has_protocols_str)
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

/// The CA bundle file and CA directory libcurl was built to trust (Debian: /etc/ssl/certs/ca-certificates.crt and
/// /etc/ssl/certs), or NULL. From curl_version_info, which has them since 7.70.
static inline const char *_Nullable aios_curl_default_ca_file(void) {
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    return info->age >= CURLVERSION_NINTH ? info->cainfo : NULL;
}

static inline const char *_Nullable aios_curl_default_ca_directory(void) {
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    return info->age >= CURLVERSION_NINTH ? info->capath : NULL;
}

/// A trust store of the certificates in `file` (read now) and a lookup in the hashed `directory` (read when a
/// verification needs it), the two sources libcurl reads itself; NULL when `file` cannot be read.
static inline void *_Nullable aios_x509_store_load(const char *_Nonnull file, const char *_Nullable directory) {
    X509_STORE *store = X509_STORE_new();
    if (store == NULL) return NULL;
    if (X509_STORE_load_file(store, file) != 1 || (directory != NULL && X509_STORE_load_path(store, directory) != 1)) {
        X509_STORE_free(store);
        ERR_clear_error();
        return NULL;
    }
    return store;
}

static inline void aios_x509_store_free(void *_Nullable store) {
    X509_STORE_free((X509_STORE *)store);
}

/// CURLOPT_SSL_CTX_FUNCTION: the new connection's SSL_CTX verifies against the shared store (it takes a reference).
static inline CURLcode aios_curl_install_x509_store(CURL *_Nonnull handle, void *_Nonnull ssl_ctx, void *_Nullable store) {
    (void)handle;
    if (store == NULL || X509_STORE_up_ref((X509_STORE *)store) != 1) return CURLE_SSL_CACERT_BADFILE;
    SSL_CTX_set_cert_store((SSL_CTX *)ssl_ctx, (X509_STORE *)store);
    return CURLE_OK;
}

/// Makes every new TLS connection of `handle` verify against `store` instead of libcurl reading the CA bundle again
/// (OpenSSL 3 takes tens of milliseconds of CPU per read of Debian's bundle). libcurl must be left with no CA file
/// and no CA directory of its own, so it reads nothing before the callback replaces the store.
static inline CURLcode aios_curl_easy_use_x509_store(CURL *_Nonnull handle, void *_Nonnull store) {
    // A libcurl whose TLS backend is not OpenSSL refuses the callback: it then keeps its own CA settings.
    CURLcode code = curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, aios_curl_install_x509_store);
    if (code == CURLE_OK) code = curl_easy_setopt(handle, CURLOPT_SSL_CTX_DATA, store);
    if (code == CURLE_OK) code = curl_easy_setopt(handle, CURLOPT_CAINFO, (char *)NULL);
    if (code == CURLE_OK) code = curl_easy_setopt(handle, CURLOPT_CAPATH, (char *)NULL);
    return code;
}

#endif
