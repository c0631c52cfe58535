#pragma once
// HTTP(S) GETs through libcurl, for the Hugging Face Hub: ranges, redirects followed,
// TLS verified, proxies taken from the environment as curl does (http_proxy, https_proxy,
// no_proxy). Rate limits (429) and server errors (5xx), and connections dropped part-way,
// are retried with backoff, resuming where the body stopped; anything else that fails
// throws HttpError. Headers given by the caller (a token) are never put in a message.
#include "core/io/readerror.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace te {

class HttpError : public ReadError {
public:
    HttpError(std::string message, std::string url, long status, std::string errorCode)
        : ReadError(std::move(message), std::move(url))
        , m_status(status)
        , m_errorCode(std::move(errorCode))
    { }
    long status() const { return m_status; } // 0 when no answer came
    // The Hub's X-Error-Code ("RepoNotFound", "GatedRepo", "EntryNotFound", ...).
    const std::string &errorCode() const { return m_errorCode; }

private:
    long m_status;
    std::string m_errorCode;
};

struct HttpRequest {
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    bool head = false;
    bool followRedirects = true;
    // A byte range: `length` bytes from `offset`; length 0 asks from offset to the end
    // (no Range header at all when offset is 0 too).
    uint64_t offset = 0;
    uint64_t length = 0;
    const std::atomic<bool> *cancel = nullptr;
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers; // of the last response, names in lower case
    std::string body;                           // when no sink was given
    std::string effectiveUrl;                   // after redirects
    uint64_t bodyBytes = 0;
    int attempts = 0;
};

struct RetryPolicy {
    int attempts = 6;
    double firstDelay = 0.25; // seconds, doubled after each try, at most maxDelay
    double maxDelay = 8.0;
};

class HttpClient {
public:
    HttpClient();
    ~HttpClient();
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    // The body goes to sink (which returns false to stop) or, without one, into
    // HttpResponse::body. A retry after part of a body arrived asks only for the rest.
    // Throws HttpError for 4xx answers (other than 429) and when retries run out,
    // Cancelled when the request's flag is raised.
    HttpResponse get(const HttpRequest &request, const std::function<bool(const char *, size_t)> &sink = {});

    void setRetryPolicy(const RetryPolicy &p) { m_retry = p; }
    // Requests this client sent, retries included (for reports and benchmarks).
    uint64_t requests() const { return m_requests; }

private:
    struct Handle;
    std::unique_ptr<Handle> m_handle;
    RetryPolicy m_retry;
    uint64_t m_requests = 0;
};

// "https://host:port/..." -> "https://host:port"; empty when it is not a URL.
std::string urlOrigin(const std::string &url);
// Percent-encodes everything but unreserved characters and '/'.
std::string urlEncodePath(const std::string &path);

} // namespace te
