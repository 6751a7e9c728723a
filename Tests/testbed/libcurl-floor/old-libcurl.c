// LD_PRELOAD shim that makes the host's libcurl behave like an older one for the options it was given:
// curl_version_info() reports AIOS_LIBCURL_VERSION (default 7.81.0, Ubuntu 22.04's), and curl_easy_setopt()
// refuses, as that libcurl would, every option added after it (CURLE_UNKNOWN_OPTION). Options and the
// versions that added them: curl's docs/libcurl/symbols-in-versions.
#define _GNU_SOURCE
#define CURL_DISABLE_TYPECHECK 1
#define CURL_NO_OLDIES 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct introduced { int option; unsigned version; };

// Options libcurl gained after 7.81.0 (names from the build host's headers); anything numbered above the newest
// of them is newer than those headers and refused too.
static const struct introduced newer[] = {
    {CURLOPT_SSH_HOSTKEYFUNCTION, 0x075400},
    {CURLOPT_SSH_HOSTKEYDATA, 0x075400},
    {CURLOPT_PROTOCOLS_STR, 0x075500},
    {CURLOPT_REDIR_PROTOCOLS_STR, 0x075500},
    {CURLOPT_WS_OPTIONS, 0x075600},
    {CURLOPT_CA_CACHE_TIMEOUT, 0x075700},
    {CURLOPT_QUICK_EXIT, 0x075700},
};

static unsigned simulated(void) {
    const char *v = getenv("AIOS_LIBCURL_VERSION");
    unsigned major = 7, minor = 81, patch = 0;
    if (v) sscanf(v, "%u.%u.%u", &major, &minor, &patch);
    return (major << 16) | (minor << 8) | patch;
}

curl_version_info_data *curl_version_info(CURLversion age) {
    static curl_version_info_data copy;
    static char text[32];
    curl_version_info_data *(*real)(CURLversion) = dlsym(RTLD_NEXT, "curl_version_info");
    curl_version_info_data *info = real(age);
    unsigned v = simulated();
    memcpy(&copy, info, sizeof copy);
    snprintf(text, sizeof text, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    copy.version = text;
    copy.version_num = v;
    return &copy;
}

CURLcode curl_easy_setopt(CURL *handle, CURLoption option, ...) {
    CURLcode (*real)(CURL *, CURLoption, ...) = dlsym(RTLD_NEXT, "curl_easy_setopt");
    unsigned v = simulated();
    for (size_t i = 0; i < sizeof newer / sizeof newer[0]; i++)
        if ((int)option == newer[i].option && v < newer[i].version) return CURLE_UNKNOWN_OPTION;
    if ((int)option % 10000 > CURLOPT_QUICK_EXIT % 10000) return CURLE_UNKNOWN_OPTION;
    // Every option's argument is one machine word (long, pointer or curl_off_t on x86-64).
    va_list ap;
    va_start(ap, option);
    void *argument = va_arg(ap, void *);
    va_end(ap);
    return real(handle, option, argument);
}
