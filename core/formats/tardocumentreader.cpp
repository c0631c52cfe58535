#include "core/formats/tardocumentreader.h"
#include "core/formats/readersupport.h"
#include "core/formats/torchpicklehooks.h"
#include "core/io/readerror.h"

#include <algorithm>
#include <cstring>

namespace te {

void readTarDocument(Document &doc, const ReadOptions &options)
{
    // The pre-0.4 tar format: members sys_info, pickle, tensors, storages. Its pickle is
    // read for structure and security; its tensor records are not decoded.
    doc.format = FileFormat::TorchTar;
    doc.producer = "PyTorch torch.save (tar format, before 0.4)";
    const uint8_t *d = doc.file->data();
    const uint64_t size = doc.file->size();
    uint64_t pos = 0;
    while (pos + 512 <= size) {
        const uint8_t *h = d + pos;
        if (h[0] == 0)
            break;
        std::string name(reinterpret_cast<const char *>(h), strnlen(reinterpret_cast<const char *>(h), 100));
        uint64_t len = 0;
        for (int i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; ++i)
            len = len * 8 + static_cast<uint64_t>(h[i] - '0');
        uint64_t data = pos + 512;
        if (len > size - data)
            throw ReadError("tar member runs past the end of the file", name, static_cast<int64_t>(pos));
        if (name == "storages" || name == "tensors" || name == "sys_info") {
            // torch.load unpickles these too (record counts and headers, between raw
            // data it does not decode here): scan the pickles that lie back to back at
            // their start; what follows the first data record is not reached.
            std::string_view rest = doc.file->view().substr(data, len);
            for (int i = 0; i < 2 && !rest.empty(); ++i) {
                const uint64_t end = scanExtraPickle(doc, rest, name, options, false);
                if (end == 0)
                    break;
                rest.remove_prefix(static_cast<size_t>(std::min<uint64_t>(end, rest.size())));
            }
            if (name != "sys_info")
                doc.security.findings.push_back("the tar format's " + name +
                                                " member interleaves pickles with raw "
                                                "data; only its leading pickles were scanned");
        }
        if (name == "pickle") {
            TorchPickleHooks hooks(doc, "pickle");
            try {
                doc.root = runPickle(doc, doc.file->view().substr(data, len), "pickle", &hooks, options, nullptr,
                                     &doc.pickleProtocol);
            } catch (const ReadError &e) {
                doc.error = e.what();
                doc.security.complete = false;
            }
        }
        pos = data + ((len + 511) / 512) * 512;
    }
    doc.warnings.push_back("the tar format's tensor records are not decoded; structure and security only");
    for (auto &t : doc.tensors)
        if (t.error.empty())
            t.error = "tensor data of the tar format is not decoded";
}

} // namespace te
