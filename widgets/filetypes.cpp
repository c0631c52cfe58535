#include "widgets/filetypes.h"

#include <QCoreApplication>

namespace te {

QStringList FileTypes::patterns()
{
    QStringList out;
    for (const FileType &t : all())
        out << t.pattern;
    return out;
}

QStringList FileTypes::patterns(const QString &mimeType)
{
    QStringList out;
    for (const FileType &t : all())
        if (t.mimeType == mimeType)
            out << t.pattern;
    return out;
}

QString FileTypes::openFilter(const QString &label)
{
    return QStringLiteral("%1 (%2);;%3")
        .arg(label, patterns().join(QLatin1Char(' ')), QCoreApplication::translate("te::FileTypes", "All files (*)"));
}

QString FileTypes::saveFilter(const QString &label, const QString &mimeType)
{
    return QStringLiteral("%1 (%2)").arg(label, patterns(mimeType).join(QLatin1Char(' ')));
}

} // namespace te
