#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>

static struct {
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    curl_version_info_data *(*version_info)(CURLversion);
} curl;
static int loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    // RTLD_GLOBAL and lookups in the global scope: an LD_PRELOADed interposer (Tests/testbed/libcurl-floor) is
    // found first, as it would be if aiosd linked libcurl.
    if (dlopen("libcurl.so.4", RTLD_NOW | RTLD_GLOBAL) == NULL) return;
#define AIOS_CURL_SYMBOL(field, name) \
    if ((*(void **)&curl.field = dlsym(RTLD_DEFAULT, name)) == NULL) return;
    AIOS_CURL_SYMBOL(easy_init, "curl_easy_init")
    AIOS_CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup")
    AIOS_CURL_SYMBOL(easy_reset, "curl_easy_reset")
    AIOS_CURL_SYMBOL(easy_perform, "curl_easy_perform")
    AIOS_CURL_SYMBOL(easy_strerror, "curl_easy_strerror")
    AIOS_CURL_SYMBOL(easy_setopt, "curl_easy_setopt")
    AIOS_CURL_SYMBOL(easy_getinfo, "curl_easy_getinfo")
    AIOS_CURL_SYMBOL(slist_append, "curl_slist_append")
    AIOS_CURL_SYMBOL(slist_free_all, "curl_slist_free_all")
    AIOS_CURL_SYMBOL(version_info, "curl_version_info")
#undef AIOS_CURL_SYMBOL
    loaded = 1;
}

int aios_curl_load(void) {
    pthread_once(&load_once, load);
    return loaded;
}

CURL *aios_curl_easy_init(void) { return curl.easy_init(); }
void aios_curl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }
void aios_curl_easy_reset(CURL *handle) { curl.easy_reset(handle); }
CURLcode aios_curl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }
const char *aios_curl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }
struct curl_slist *aios_curl_slist_append(struct curl_slist *list, const char *text) { return curl.slist_append(list, text); }
void aios_curl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }

CURLcode aios_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) { return curl.easy_setopt(handle, option, value); }
CURLcode aios_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) { return curl.easy_setopt(handle, option, value); }
CURLcode aios_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) { return curl.easy_setopt(handle, option, value); }
CURLcode aios_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) { return curl.easy_setopt(handle, option, value); }
CURLcode aios_curl_easy_setopt_write_function(CURL *handle, aios_curl_write_callback callback) {
    return curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}
CURLcode aios_curl_easy_setopt_header_function(CURL *handle, aios_curl_write_callback callback) {
    return curl.easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}
CURLcode aios_curl_easy_setopt_header_data(CURL *handle, void *userdata) { return curl.easy_setopt(handle, CURLOPT_HEADERDATA, userdata); }
CURLcode aios_curl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = length;
    blob.flags = CURL_BLOB_COPY;
    return curl.easy_setopt(handle, option, &blob);
}
CURLcode aios_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) { return curl.easy_getinfo(handle, info, value); }

int aios_curl_has_protocols_str(void) { return curl.version_info(CURLVERSION_NOW)->version_num >= 0x075500; }

CURLcode aios_curl_easy_restrict_protocols_to_http(CURL *handle, int has_protocols_str) {
    if (has_protocols_str) return curl.easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return curl.easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#pragma GCC diagnostic pop
}

const char *aios_curl_version(void) { return curl.version_info(CURLVERSION_NOW)->version; }

const char *aios_curl_default_ca_file(void) {
    const curl_version_info_data *info = curl.version_info(CURLVERSION_NOW);
    return info->age >= CURLVERSION_NINTH ? info->cainfo : NULL;
}

const char *aios_curl_default_ca_directory(void) {
    const curl_version_info_data *info = curl.version_info(CURLVERSION_NOW);
    return info->age >= CURLVERSION_NINTH ? info->capath : NULL;
}

/// CURLOPT_SSL_CTX_FUNCTION: the new connection's SSL_CTX verifies against the shared store (it takes a reference).
static CURLcode install_x509_store(CURL *handle, void *ssl_ctx, void *store) {
    (void)handle;
    if (store == NULL || X509_STORE_up_ref((X509_STORE *)store) != 1) return CURLE_SSL_CACERT_BADFILE;
    SSL_CTX_set_cert_store((SSL_CTX *)ssl_ctx, (X509_STORE *)store);
    return CURLE_OK;
}

CURLcode aios_curl_easy_use_x509_store(CURL *handle, void *store) {
    // A libcurl whose TLS backend is not OpenSSL refuses the callback: it then keeps its own CA settings.
    CURLcode code = curl.easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, install_x509_store);
    if (code == CURLE_OK) code = curl.easy_setopt(handle, CURLOPT_SSL_CTX_DATA, store);
    if (code == CURLE_OK) code = curl.easy_setopt(handle, CURLOPT_CAINFO, (char *)NULL);
    if (code == CURLE_OK) code = curl.easy_setopt(handle, CURLOPT_CAPATH, (char *)NULL);
    return code;
}
