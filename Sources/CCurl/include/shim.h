// libcurl, loaded when a request first needs it (only requests through a proxy do: AIOSHTTP speaks HTTP/1.1 itself
// otherwise), so a host that never uses a proxy never maps libcurl and the ~25 libraries it links (GnuTLS, Kerberos,
// LDAP, libssh2, ...). Prefixed, typed wrappers over libcurl's variadic curl_easy_setopt/curl_easy_getinfo, one per
// argument type (the pattern of swift-corelibs-foundation's CFURLSessionInterface); shim.c holds the one copy of
// the loaded functions.
#ifndef AIOS_CCURL_SHIM_H
#define AIOS_CCURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*aios_curl_write_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable userdata);

/// Loads libcurl.so.4 once per process; 1 when it and every function used here were found. Every other function
/// of this header may be called only after it returned 1.
int aios_curl_load(void);

CURL *_Nullable aios_curl_easy_init(void);
void aios_curl_easy_cleanup(CURL *_Nonnull handle);
void aios_curl_easy_reset(CURL *_Nonnull handle);
CURLcode aios_curl_easy_perform(CURL *_Nonnull handle);
const char *_Nonnull aios_curl_easy_strerror(CURLcode code);
struct curl_slist *_Nullable aios_curl_slist_append(struct curl_slist *_Nullable list, const char *_Nonnull text);
void aios_curl_slist_free_all(struct curl_slist *_Nullable list);

CURLcode aios_curl_easy_setopt_long(CURL *_Nonnull handle, CURLoption option, long value);
CURLcode aios_curl_easy_setopt_string(CURL *_Nonnull handle, CURLoption option, const char *_Nullable value);
CURLcode aios_curl_easy_setopt_pointer(CURL *_Nonnull handle, CURLoption option, void *_Nullable value);
CURLcode aios_curl_easy_setopt_slist(CURL *_Nonnull handle, CURLoption option, struct curl_slist *_Nullable value);
CURLcode aios_curl_easy_setopt_write_function(CURL *_Nonnull handle, aios_curl_write_callback _Nonnull callback);
CURLcode aios_curl_easy_setopt_header_function(CURL *_Nonnull handle, aios_curl_write_callback _Nonnull callback);
/// Sets CURLOPT_HEADERDATA, the userdata handed to the header callback.
CURLcode aios_curl_easy_setopt_header_data(CURL *_Nonnull handle, void *_Nullable userdata);
/// Sets a blob option (certificate, key or CA bundle held in memory; CURLOPT_SSLCERT_BLOB and friends).
/// libcurl copies the bytes, so the caller's buffer may go away after the call.
CURLcode aios_curl_easy_setopt_blob(CURL *_Nonnull handle, CURLoption option, const void *_Nonnull data, size_t length);
CURLcode aios_curl_easy_getinfo_long(CURL *_Nonnull handle, CURLINFO info, long *_Nonnull value);

/// True when the libcurl actually loaded has CURLOPT_PROTOCOLS_STR (7.85 and later): the package runs on whatever
/// libcurl the host ships. Asked once by the caller: curl_version_info formats its whole feature list at every call.
int aios_curl_has_protocols_str(void);
/// Restricts a transfer to HTTP and HTTPS. Older libcurls than 7.85 (Ubuntu 22.04 has 7.81) take the bitmask
/// CURLOPT_PROTOCOLS_STR replaced, which later versions still honour but mark deprecated.
CURLcode aios_curl_easy_restrict_protocols_to_http(CURL *_Nonnull handle, int has_protocols_str);

static inline long aios_curl_http_version_2tls(void) { return CURL_HTTP_VERSION_2TLS; }

const char *_Nonnull aios_curl_version(void);
/// The CA bundle file and CA directory libcurl was built to trust (Debian: /etc/ssl/certs/ca-certificates.crt and
/// /etc/ssl/certs), or NULL. From curl_version_info, which has them since 7.70.
const char *_Nullable aios_curl_default_ca_file(void);
const char *_Nullable aios_curl_default_ca_directory(void);

/// Makes every new TLS connection of `handle` verify against `store` (an X509_STORE) instead of libcurl reading the
/// CA bundle again (OpenSSL 3 takes tens of milliseconds of CPU per read of Debian's bundle). libcurl is left with
/// no CA file and no CA directory of its own, so it reads nothing before the callback replaces the store.
CURLcode aios_curl_easy_use_x509_store(CURL *_Nonnull handle, void *_Nonnull store);

#endif
