#pragma once
// What every fuzz target does with a document once a reader accepted the bytes: the same
// work the CLI and the window do (reports, security scan, statistics, values), so that a
// crash anywhere behind the reader is found too. Readers may reject bytes only with
// ReadError; any other exception escapes and counts as a finding.
#include "core/document/documentanalyzer.h"
#include "core/formats/folderreader.h"
#include "core/formats/pickledocumentreader.h"
#include "core/formats/readersupport.h"
#include "core/formats/safetensorsreader.h"
#include "core/formats/tardocumentreader.h"
#include "core/formats/torchscriptcode.h"
#include "core/formats/zipdocumentreader.h"
#include "core/io/readerror.h"
#include "core/report/inspectreport.h"
#include "core/report/valuejson.h"
#include "core/security/securityscanner.h"
#include "core/stats/tensorgrid.h"
#include "core/stats/tensorstats.h"

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

namespace te::fuzz {

inline std::shared_ptr<const MappedFile> bytesOf(const uint8_t *data, size_t size, const char *name)
{
    return MappedFile::fromBytes(std::string(reinterpret_cast<const char *>(data), size), name);
}

// Reports, statistics and the first values of every tensor; statistics only while the
// elements read stay within a budget, so one input cannot take seconds.
inline void exercise(const Document &doc)
{
    (void)jsonText(inspectJson(doc, false));
    std::ostringstream streamed;
    writeInspectJson(streamed, doc, false);
    (void)inspectText(doc, false);
    (void)inspectMarkdown(doc);
    (void)scanText(doc);
    uint64_t budget = uint64_t(1) << 22;
    for (const auto &t : doc.tensors) {
        const int64_t n = t.numel();
        if (n > 0 && static_cast<uint64_t>(n) <= budget) {
            budget -= static_cast<uint64_t>(n);
            (void)computeStats(doc, t);
            (void)computeHistogram(doc, t, -1, 1, 16);
            (void)reduceToGrid(doc, filtersTiled(t), 8, 8, GridReduction::MaxAbs, nullptr, t.shape.size() == 4 ? 2 : 1);
        }
        (void)readValues(doc, t, 32);
        if (t.shape.size() >= 3)
            (void)readValues(doc, indexLeading(t, std::vector<int64_t>(t.shape.size() - 2, 0)), 32);
    }
}

// Runs one reader on the bytes as readDocument would after detection, then exercise().
template <typename Reader> void readAndExercise(const uint8_t *data, size_t size, const char *name, Reader reader)
{
    Document doc;
    doc.path = name;
    doc.file = bytesOf(data, size, name);
    try {
        reader(doc);
        analyzeDocument(doc);
        scanSecurity(doc);
    } catch (const ReadError &) {
        return;
    }
    exercise(doc);
}

} // namespace te::fuzz
