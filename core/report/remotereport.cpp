// Where a document read from the Hugging Face Hub came from and what reading it has
// fetched so far, for inspect and scan (declared in inspectreport.h).
#include "core/hub/hubdocument.h"
#include "core/report/inspectreport.h"
#include "core/report/units.h"

#include <cstdio>

namespace te {

nlohmann::ordered_json remoteJson(const Document &doc)
{
    if (!doc.remote)
        return nullptr;
    const RemoteOrigin &r = *doc.remote;
    const FetchStats f = documentFetchStats(doc);
    return {{"repo", r.repo},         {"revision", r.revision},      {"commit", r.commit},
            {"endpoint", r.endpoint}, {"total_bytes", r.totalBytes}, {"bytes_fetched", f.bytes},
            {"requests", f.requests}, {"fetch_seconds", f.seconds},  {"open_seconds", r.openSeconds}};
}

std::string remoteText(const Document &doc)
{
    if (!doc.remote)
        return {};
    const RemoteOrigin &r = *doc.remote;
    const FetchStats f = documentFetchStats(doc);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f s", f.seconds);
    return "hf:" + r.repo + " at " + r.revision + " (commit " + r.commit.substr(0, 12) + ") from " + r.endpoint +
           ": fetched " + formatBytes(f.bytes) + " of " + formatBytes(r.totalBytes) + " in " +
           std::to_string(f.requests) + (f.requests == 1 ? " request, " : " requests, ") + seconds;
}

} // namespace te
