// libcurl's C API for LeadBridgeNet, loaded on first use with dlopen("libcurl.so.4") so that
// commands that never touch the network (show, postbacks, lint…) do not load libcurl and its
// tree of libraries (OpenSSL, nghttp2, krb5, ldap, ssh2…) at start-up. Deliberately no
// `link "curl"` line in the module map: the headers come from libcurl4-openssl-dev, the
// library is resolved at run time.
//
// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
// call: the typed wrappers below call them through correctly typed variadic pointers.
#ifndef LEADBRIDGE_CCURL_SHIM_H
#define LEADBRIDGE_CCURL_SHIM_H
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>

typedef struct lb_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    void (*easy_reset)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *multi);
    CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t s, int ev_bitmask, int *running);
    CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
    curl_version_info_data *(*version_info)(CURLversion age);
    void *easy_setopt;   /* CURLcode (*)(CURL *, CURLoption, ...) */
    void *easy_getinfo;  /* CURLcode (*)(CURL *, CURLINFO, ...) */
    void *multi_setopt;  /* CURLMcode (*)(CURLM *, CURLMoption, ...) */
} lb_curl_api;

/// Loads libcurl and fills `api`; returns 0, or -1 with dlerror()'s text in `error`.
static inline int lb_curl_load(lb_curl_api *api, const char **error) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) { *error = dlerror(); return -1; }
#define LB_SYM(field, name) do { *(void **)(&api->field) = dlsym(h, name); if (!api->field) { *error = "libcurl.so.4 lacks " name; return -1; } } while (0)
    LB_SYM(global_init, "curl_global_init");
    LB_SYM(easy_init, "curl_easy_init");
    LB_SYM(easy_cleanup, "curl_easy_cleanup");
    LB_SYM(easy_reset, "curl_easy_reset");
    LB_SYM(easy_strerror, "curl_easy_strerror");
    LB_SYM(slist_append, "curl_slist_append");
    LB_SYM(slist_free_all, "curl_slist_free_all");
    LB_SYM(multi_init, "curl_multi_init");
    LB_SYM(multi_cleanup, "curl_multi_cleanup");
    LB_SYM(multi_add_handle, "curl_multi_add_handle");
    LB_SYM(multi_remove_handle, "curl_multi_remove_handle");
    LB_SYM(multi_socket_action, "curl_multi_socket_action");
    LB_SYM(multi_info_read, "curl_multi_info_read");
    LB_SYM(version_info, "curl_version_info");
    LB_SYM(easy_setopt, "curl_easy_setopt");
    LB_SYM(easy_getinfo, "curl_easy_getinfo");
    LB_SYM(multi_setopt, "curl_multi_setopt");
#undef LB_SYM
    return 0;
}

typedef CURLcode (*lb_easy_setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*lb_easy_getinfo_fn)(CURL *, CURLINFO, ...);
typedef CURLMcode (*lb_multi_setopt_fn)(CURLM *, CURLMoption, ...);

static inline CURLcode lb_setopt_long(const lb_curl_api *a, CURL *e, CURLoption o, long v) {
    return ((lb_easy_setopt_fn)a->easy_setopt)(e, o, v);
}
static inline CURLcode lb_setopt_ptr(const lb_curl_api *a, CURL *e, CURLoption o, const void *v) {
    return ((lb_easy_setopt_fn)a->easy_setopt)(e, o, v);
}
static inline CURLcode lb_setopt_off(const lb_curl_api *a, CURL *e, CURLoption o, curl_off_t v) {
    return ((lb_easy_setopt_fn)a->easy_setopt)(e, o, v);
}
static inline CURLcode lb_setopt_write(const lb_curl_api *a, CURL *e, CURLoption o, curl_write_callback v) {
    return ((lb_easy_setopt_fn)a->easy_setopt)(e, o, v);
}
static inline CURLcode lb_setopt_prereq(const lb_curl_api *a, CURL *e, curl_prereq_callback v) {
    return ((lb_easy_setopt_fn)a->easy_setopt)(e, CURLOPT_PREREQFUNCTION, v);
}
static inline CURLcode lb_getinfo_long(const lb_curl_api *a, CURL *e, CURLINFO i, long *v) {
    return ((lb_easy_getinfo_fn)a->easy_getinfo)(e, i, v);
}
static inline CURLcode lb_getinfo_off(const lb_curl_api *a, CURL *e, CURLINFO i, curl_off_t *v) {
    return ((lb_easy_getinfo_fn)a->easy_getinfo)(e, i, v);
}
static inline CURLcode lb_getinfo_ptr(const lb_curl_api *a, CURL *e, CURLINFO i, void **v) {
    return ((lb_easy_getinfo_fn)a->easy_getinfo)(e, i, v);
}
static inline CURLMcode lb_multi_setopt_long(const lb_curl_api *a, CURLM *m, CURLMoption o, long v) {
    return ((lb_multi_setopt_fn)a->multi_setopt)(m, o, v);
}
/// The multi handle's socket callback (which descriptors to watch) and its user pointer.
static inline CURLMcode lb_multi_setopt_socket(const lb_curl_api *a, CURLM *m, curl_socket_callback f, const void *data) {
    CURLMcode rc = ((lb_multi_setopt_fn)a->multi_setopt)(m, CURLMOPT_SOCKETFUNCTION, f);
    return rc != CURLM_OK ? rc : ((lb_multi_setopt_fn)a->multi_setopt)(m, CURLMOPT_SOCKETDATA, data);
}
/// The multi handle's timer callback (when to call the timeout action) and its user pointer.
static inline CURLMcode lb_multi_setopt_timer(const lb_curl_api *a, CURLM *m, curl_multi_timer_callback f, const void *data) {
    CURLMcode rc = ((lb_multi_setopt_fn)a->multi_setopt)(m, CURLMOPT_TIMERFUNCTION, f);
    return rc != CURLM_OK ? rc : ((lb_multi_setopt_fn)a->multi_setopt)(m, CURLMOPT_TIMERDATA, data);
}
/// CURLMsg's union, read without Swift having to know its layout.
static inline CURLcode lb_msg_result(const CURLMsg *m) { return m->data.result; }

#endif
