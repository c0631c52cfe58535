#include "core/net/httpclient.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <curl/curl.h>
#include <mutex>
#include <thread>

namespace te {
namespace {

std::once_flag g_curlInit;

struct Transfer {
    const HttpRequest *request = nullptr;
    const std::function<bool(const char *, size_t)> *sink = nullptr;
    HttpResponse *response = nullptr;
    uint64_t limit = 0;    // bytes still wanted in this attempt (0: no limit)
    uint64_t received = 0; // in this attempt
    bool sinkStopped = false;
    bool limitReached = false;
    long status = 0;       // of the response whose headers came last
    std::string errorBody; // the start of an error's body, for its message
};

size_t onHeader(char *data, size_t size, size_t count, void *user)
{
    auto *t = static_cast<Transfer *>(user);
    const size_t n = size * count;
    std::string line(data, n);
    if (line.rfind("HTTP/", 0) == 0) { // a new response (after a redirect): its own headers
        t->response->headers.clear();
        const size_t space = line.find(' ');
        t->status = space == std::string::npos ? 0 : std::strtol(line.c_str() + space + 1, nullptr, 10);
        return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos)
        return n;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    const size_t first = value.find_first_not_of(" \t");
    const size_t last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
    t->response->headers[name] = value;
    return n;
}

size_t onBody(char *data, size_t size, size_t count, void *user)
{
    auto *t = static_cast<Transfer *>(user);
    size_t n = size * count;
    if (t->status < 200 || t->status >= 300) { // not the data asked for: kept only for the message
        t->errorBody.append(data, std::min(n, size_t(4096) - std::min(size_t(4096), t->errorBody.size())));
        return n;
    }
    if (t->limit && t->received + n > t->limit) {
        n = static_cast<size_t>(t->limit - t->received);
        t->limitReached = true;
    }
    if (t->sink && *t->sink) {
        if (!(*t->sink)(data, n)) {
            t->sinkStopped = true;
            return 0;
        }
    } else {
        t->response->body.append(data, n);
    }
    t->received += n;
    t->response->bodyBytes += n;
    return t->limitReached ? 0 : size * count;
}

int onProgress(void *user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    auto *t = static_cast<Transfer *>(user);
    return t->request->cancel && t->request->cancel->load() ? 1 : 0;
}

bool retryableCurlError(CURLcode code)
{
    switch (code) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
    }
}

void sleepFor(double seconds, const std::atomic<bool> *cancel)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
        if (cancel && cancel->load())
            throw Cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// "HTTP 404: Entry not found", from the X-Error-Message header or a JSON {"error": ...}.
std::string statusMessage(long status, const HttpResponse &r, const std::string &body)
{
    std::string text = "HTTP " + std::to_string(status);
    auto it = r.headers.find("x-error-message");
    if (it != r.headers.end() && !it->second.empty())
        return text + ": " + it->second;
    const size_t key = body.find("\"error\"");
    const size_t open = key == std::string::npos ? key : body.find('"', body.find(':', key) + 1);
    const size_t close = open == std::string::npos ? open : body.find('"', open + 1);
    if (close != std::string::npos && close - open < 300)
        text += ": " + body.substr(open + 1, close - open - 1);
    return text;
}

// Whether a 206's Content-Range says the file ends before the range asked for.
bool shorterThanAsked(const HttpResponse &r, const HttpRequest &request)
{
    auto it = r.headers.find("content-range");
    if (it == r.headers.end())
        return false;
    const size_t slash = it->second.find('/');
    if (slash == std::string::npos || slash + 1 >= it->second.size() || it->second[slash + 1] == '*')
        return false;
    const unsigned long long total = std::strtoull(it->second.c_str() + slash + 1, nullptr, 10);
    return total < request.offset + request.length;
}

} // namespace

struct HttpClient::Handle {
    CURL *curl = nullptr;
};

HttpClient::HttpClient()
    : m_handle(std::make_unique<Handle>())
{
    std::call_once(g_curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    m_handle->curl = curl_easy_init();
}

HttpClient::~HttpClient()
{
    if (m_handle->curl)
        curl_easy_cleanup(m_handle->curl);
}

HttpResponse HttpClient::get(const HttpRequest &request, const std::function<bool(const char *, size_t)> &sink)
{
    CURL *curl = m_handle->curl;
    if (!curl)
        throw HttpError("the HTTP library could not be initialised", request.url, 0, {});
    HttpResponse response;
    uint64_t received = 0; // over all attempts
    double delay = m_retry.firstDelay;
    for (int attempt = 1;; ++attempt) {
        response.attempts = attempt;
        Transfer t;
        t.request = &request;
        t.sink = &sink;
        t.response = &response;
        const uint64_t start = request.offset + received;
        if (request.length)
            t.limit = request.length - received;
        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1L : 0L);
        curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "torch-explorer");
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
        if (request.head)
            curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        struct curl_slist *headers = nullptr;
        for (const auto &h : request.headers)
            headers = curl_slist_append(headers, h.c_str());
        std::string range;
        if (request.length)
            range = "Range: bytes=" + std::to_string(start) + "-" + std::to_string(request.offset + request.length - 1);
        else if (start > 0)
            range = "Range: bytes=" + std::to_string(start) + "-";
        if (!range.empty())
            headers = curl_slist_append(headers, range.c_str());
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        const CURLcode code = curl_easy_perform(curl);
        curl_slist_free_all(headers);
        ++m_requests;
        received += t.received;
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        response.status = status;
        char *effective = nullptr;
        if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective)
            response.effectiveUrl = effective;
        if (request.cancel && request.cancel->load())
            throw Cancelled();
        if (t.sinkStopped)
            return response;
        const bool done = code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.limitReached);
        bool retry = false;
        std::string why;
        if (!done) {
            why = curl_easy_strerror(code);
            if (!retryableCurlError(code))
                throw HttpError("cannot fetch: " + why, request.url, status, {});
            retry = true;
        } else if (status == 429 || status >= 500) {
            why = statusMessage(status, response, t.errorBody);
            retry = true;
            // What the server asks for, within reason; the body of an error is not data.
            auto it = response.headers.find("retry-after");
            if (it != response.headers.end() && !it->second.empty() &&
                it->second.find_first_not_of("0123456789") == std::string::npos && it->second.size() < 6)
                delay = std::min(30.0, static_cast<double>(std::stoi(it->second)));
        } else if (status >= 400) {
            auto code404 = response.headers.find("x-error-code");
            throw HttpError(statusMessage(status, response, t.errorBody), request.url, status,
                            code404 == response.headers.end() ? std::string() : code404->second);
        } else if (status == 206 && request.length && shorterThanAsked(response, request)) {
            throw HttpError(
                "the file has " +
                    response.headers["content-range"].substr(response.headers["content-range"].find('/') + 1) +
                    " bytes, fewer than the range asked for ends at",
                request.url, 416, {});
        } else if (!range.empty() && status == 200 && start > 0) {
            throw HttpError("the server does not answer byte ranges (HTTP 200 for a range)", request.url, status, {});
        } else if (request.length && received < request.length && !request.head && status != 304 &&
                   (status < 300 || status >= 400)) {
            why =
                "the body ended after " + std::to_string(received) + " of " + std::to_string(request.length) + " bytes";
            retry = true;
        }
        if (!retry)
            return response;
        if (attempt >= m_retry.attempts)
            throw HttpError("gave up after " + std::to_string(attempt) + " tries: " + why, request.url, status, {});
        sleepFor(delay, request.cancel);
        delay = std::min(m_retry.maxDelay, std::max(delay * 2, m_retry.firstDelay));
    }
}

std::string urlOrigin(const std::string &url)
{
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos)
        return {};
    const size_t slash = url.find('/', scheme + 3);
    return url.substr(0, slash);
}

std::string urlEncodePath(const std::string &path)
{
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : path) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

} // namespace te
