#pragma once
// The files Torch Explorer opens, and the name filters every file dialog offers for them.
// The list itself is resources/filetypes.txt: CMake makes this table (all(), in the build
// folder) and the MIME types installed for desktops from it, so the two cannot drift apart.
#include <QString>
#include <QStringList>
#include <vector>

namespace te {

struct FileType {
    QString pattern;  // "*.pth.tar"
    QString mimeType; // "application/x-pytorch"; empty: offered in the dialogs, not claimed for the desktop
};

class FileTypes {
public:
    static const std::vector<FileType> &all(); // in the order of the list
    static QStringList patterns();             // every one, for the dialogs
    static QStringList patterns(const QString &mimeType);
    // "label (*.pt *.pth ...);;All files (*)": for a dialog that opens a model or checkpoint.
    static QString openFilter(const QString &label);
    // "label (the patterns of mimeType)": for a dialog that saves a file of that type.
    static QString saveFilter(const QString &label, const QString &mimeType);

    static QString pytorchMimeType() { return QStringLiteral("application/x-pytorch"); }
    static QString safetensorsMimeType() { return QStringLiteral("application/x-safetensors"); }
};

} // namespace te
