#pragma once
// torch.export's .pt2 archives (PyTorch's "PT2 Archive Spec", written by
// torch.export.save from 2.8 on and by AOTInductor's package_aoti): a zip whose members
// sit under one folder, marked by an `archive_format` record holding "pt2".
//   models/<name>.json                        the serialized ExportedProgram: the graph
//                                             (aten operator calls) and its signature
//   data/weights/<name>_weights_config.json   state-dict name -> payload file, dtype,
//   data/weights/weight_<i>                   sizes, strides, offset: raw storage bytes
//   data/constants/<name>_constants_config.json, data/constants/tensor_<i>, custom_obj_<i>
//   data/sample_inputs/<name>.pt              torch.save of (args, kwargs)
//   data/aotinductor/<name>/...               compiled code (.so) and its metadata
// The weights become the document's tensors under their state-dict names, read from the
// stored members in place; the program, constants and compiled parts are described in
// the metadata. Nothing is unpickled and nothing compiled is loaded.
#include "core/formats/documentreader.h"

namespace te {

class ZipArchive;

// Whether the archive is a .pt2 (its archive_format record says "pt2"), and its folder.
bool isPt2Archive(ZipArchive &zip, std::string *prefix);
// Reads the archive already opened as doc.zip. Throws ReadError when it is not one.
void readPt2Document(Document &doc, const std::string &prefix, const ReadOptions &options);

// torch.export.save of PyTorch 2.1 to 2.7: a zip with no folder holding
// serialized_exported_program.json (the program, as in models/<name>.json later),
// serialized_state_dict.pt, serialized_constants.pt and serialized_example_inputs.pt
// (each a whole torch.save, stored), version ("major.minor" of the schema) and
// extra_files/. The state dict's tensors are read in place from the nested torch.save.
bool isLegacyExportArchive(const ZipArchive &zip);
void readLegacyPt2Document(Document &doc, const ReadOptions &options);

// Internal to the two .pt2 readers.
struct ZipEntry;
const ZipEntry *pt2Member(Document &doc, const std::string &name);
// A short text record without its line end, at most 64 characters ("pt2", "7.3").
std::string pt2Trimmed(std::string_view text);
nlohmann::json pt2MemberJson(Document &doc, const ZipEntry &e);
void describeExportProgram(Document &doc, const nlohmann::json &program, const std::string &model);
// A torch.save stored in the archive, read as a document of its own (in place when it is
// stored); its tensors join doc's under keyPrefix (when `tensors`), its globals and
// findings always (torch.export.load unpickles it). Returns it; doc keeps it alive.
const Document *readNestedSave(Document &doc, const ZipEntry &e, const std::string &keyPrefix, bool tensors,
                               const ReadOptions &options);

} // namespace te
