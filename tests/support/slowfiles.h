#pragma once
// Deliberately slow files for tests that cancel a read or watch its progress: pickles of
// 60 million cheap opcodes (DUP, POP), which the reader takes a noticeable moment over and
// can stop at any opcode.
#include <QByteArray>
#include <QFile>
#include <QString>
#include <QTemporaryDir>

namespace te::testing {

// A legacy torch.save file (magic number, protocol 1001, sys_info, object, storage keys)
// whose object pickle is 60 million cheap opcodes: the reader reports that it starts on
// the object, then takes a noticeable moment, in which it can stop at any opcode.
inline QString writeSlowLegacyCheckpoint(const QTemporaryDir &dir)
{
    const QString path = dir.filePath(QStringLiteral("slow_legacy.pt"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(QByteArray::fromHex("80028a0a6cfc9c46f9206aa85019") + "."); // the magic number
    f.write(QByteArray::fromHex("80024de903") + ".");                   // 1001
    f.write("\x80\x02}.");                                              // sys_info: {}
    f.write("\x80\x02N");
    const QByteArray dupPop = QByteArray("20").repeated(1 << 20);
    for (int i = 0; i < 30; ++i)
        f.write(dupPop);
    f.write(".");
    f.write("\x80\x02]."); // no storages
    f.write(QByteArray(8, '\0'));
    return path;
}

inline QString writeSlowPickle(const QTemporaryDir &dir)
{
    const QString path = dir.filePath(QStringLiteral("slow.pkl"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write("\x80\x02N");
    const QByteArray dupPop = QByteArray("20").repeated(1 << 20);
    for (int i = 0; i < 30; ++i)
        f.write(dupPop);
    f.write(".");
    return path;
}

} // namespace te::testing
