#include "widgets/fileinfopanel.h"

#include "core/report/inspectreport.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "core/security/securityscanner.h"

#include <algorithm>
#include <map>

namespace te {
namespace {

QString esc(const std::string &s) { return QString::fromStdString(s).toHtmlEscaped(); }

QString row(const QString &key, const QString &value)
{
    return QStringLiteral("<tr><td style='padding-right:12px'><b>%1</b></td><td>%2</td></tr>").arg(key, value);
}

// The path, then a table: format, size, tensors, forward, state dicts, optimizers.
QString summary(const Document &doc)
{
    QString h;
    h += QStringLiteral("<h3>%1</h3><table>").arg(esc(doc.path));
    h +=
        row(FileInfoPanel::tr("Format"), QStringLiteral("%1 (%2)").arg(esc(formatName(doc.format)), esc(doc.producer)));
    if (doc.pickleProtocol)
        h += row(FileInfoPanel::tr("Pickle protocol"), QString::number(doc.pickleProtocol));
    h += row(FileInfoPanel::tr("File size"), esc(formatBytes(doc.file ? doc.file->size() : 0)));
    if (doc.remote)
        h += row(FileInfoPanel::tr("On the Hub"), esc(remoteText(doc)));
    h += row(FileInfoPanel::tr("Tensors"),
             QStringLiteral("%1 (%2 elements)").arg(doc.entries.size()).arg(esc(formatCount(doc.parameterCount()))));
    if (!doc.torchscript.forwardSignature.empty())
        h += row(FileInfoPanel::tr("forward"),
                 QStringLiteral("<code>%1</code>").arg(esc(doc.torchscript.forwardSignature)));
    if (!doc.stateDicts.empty()) {
        QStringList names;
        for (const auto &s : doc.stateDicts)
            names << (s.empty() ? FileInfoPanel::tr("(the whole file)") : esc(s));
        h += row(FileInfoPanel::tr("State dicts"), names.join(QStringLiteral("<br>")));
    }
    for (const auto &o : doc.optimizers)
        h += row(FileInfoPanel::tr("Optimizer"), QStringLiteral("%1: %2, %3 param group(s), state for %4 tensors")
                                                     .arg(esc(o.path), esc(o.type))
                                                     .arg(o.paramGroups.size())
                                                     .arg(o.stateEntries));
    h += QStringLiteral("</table>");
    return h;
}

// Weight files, config.json, problems met while reading, metadata, optimizer settings.
QString contents(const Document &doc)
{
    QString h;
    if (!doc.weightFiles.empty()) {
        QStringList files;
        for (const auto &f : doc.weightFiles)
            files << esc(f);
        h += QStringLiteral("<h4>Weight files</h4><p>%1</p>").arg(files.join(QStringLiteral("<br>")));
    }
    if (!doc.config.is_null() && !doc.config.empty())
        h += QStringLiteral("<h4>config.json</h4><pre>%1</pre>").arg(esc(jsonText(doc.config, 2)));
    if (!doc.error.empty() || !doc.warnings.empty()) {
        h += QStringLiteral("<h4>Problems</h4><ul>");
        if (!doc.error.empty())
            h += QStringLiteral("<li><b>%1</b></li>").arg(esc(doc.error));
        for (const auto &w : doc.warnings)
            h += QStringLiteral("<li>%1</li>").arg(esc(w));
        h += QStringLiteral("</ul>");
    }
    if (!doc.metadata.empty()) {
        h += QStringLiteral("<h4>Metadata</h4><table>");
        for (const auto &[k, v] : doc.metadata.items()) {
            // A list of texts (a program's operators, its calls) reads best a line each.
            const bool lines = v.is_array() && !v.empty() &&
                               std::all_of(v.begin(), v.end(), [](const auto &x) { return x.is_string(); });
            QStringList parts;
            if (lines)
                for (const auto &x : v)
                    parts << esc(x.template get<std::string>());
            h += row(esc(k), lines ? parts.join(QStringLiteral("<br>"))
                                   : esc(v.is_string() ? v.get<std::string>() : jsonText(v)));
        }
        h += QStringLiteral("</table>");
    }
    for (const auto &o : doc.optimizers) {
        h += QStringLiteral("<h4>Optimizer %1</h4><pre>%2</pre>").arg(esc(o.path), esc(jsonText(o.paramGroups, 2)));
    }
    return h;
}

// The verdict, what weights_only=True would do and how to make it load, every global.
QString security(const SecurityReport &r)
{
    QString h;
    h += QStringLiteral("<h4>Security: %1</h4><p>%2</p>").arg(esc(r.verdict), esc(securitySummary(r)));
    h += QStringLiteral("<p>weights_only=True in PyTorch would %1 this file.</p>")
             .arg(r.weightsOnlyLoadable ? FileInfoPanel::tr("load") : FileInfoPanel::tr("refuse"));
    // The way to load it safely, once the user trusts the classes it names.
    const std::vector<std::string> advice = safeGlobalsAdvice(r);
    if (!advice.empty()) {
        QStringList lines;
        for (const auto &l : advice)
            lines << esc(l);
        h += QStringLiteral("<p>%1</p><pre>%2</pre>")
                 .arg(FileInfoPanel::tr("To load it with torch.load(weights_only=True), the default since "
                                        "PyTorch 2.6, once you trust these classes:"),
                      lines.join(QLatin1Char('\n')));
    }
    if (!r.findings.empty()) {
        h += QStringLiteral("<ul>");
        for (const auto &f : r.findings)
            h += QStringLiteral("<li>%1</li>").arg(esc(f));
        h += QStringLiteral("</ul>");
    }
    h += QStringLiteral("<table><tr><th align=left>global</th><th align=left>category</th><th align=left>use</th>"
                        "<th align=left>where</th><th align=left>why</th></tr>");
    // Dotted names and member paths may wrap after a dot, a slash or an underscore, never
    // inside a word.
    auto breakable = [](QString text) {
        for (QChar c : {QLatin1Char('.'), QLatin1Char('/'), QLatin1Char('_')})
            text.replace(c, QString(c) + QChar(0x200b));
        return text;
    };
    for (const auto &g : r.globals) {
        QString name = breakable(esc(g.name));
        if (g.category == "dangerous")
            name = QStringLiteral("<b style='color:#dc322f'>%1</b>").arg(name);
        const QString use = (g.called ? FileInfoPanel::tr("called") : FileInfoPanel::tr("referenced")) +
                            (g.count > 1 ? QStringLiteral(" ×%1").arg(g.count) : QString());
        h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4 @ %5</td><td>%6</td></tr>")
                 .arg(name, esc(g.category), use, breakable(esc(g.member)))
                 .arg(g.offset)
                 .arg(esc(g.reason));
    }
    h += QStringLiteral("</table>");
    return h;
}

// Module hyper-parameters, and the class source that legacy files carry.
QString modules(const Document &doc)
{
    QString h;
    bool anyHyper = false;
    for (const auto &m : doc.modules)
        anyHyper = anyHyper || !m.hyper.empty();
    if (anyHyper) {
        h += QStringLiteral("<h4>Modules</h4><table>");
        for (const auto &m : doc.modules) {
            QStringList parts;
            for (const auto &[k, v] : m.hyper.items())
                parts << QStringLiteral("%1=%2").arg(esc(k), esc(jsonText(v)));
            h += row(esc(m.path.empty() ? "(root)" : m.path),
                     QStringLiteral("<i>%1</i> %2").arg(esc(m.className), parts.join(QStringLiteral(", "))));
        }
        h += QStringLiteral("</table>");
    }
    for (const auto &[cls, source] : doc.classSources)
        h +=
            QStringLiteral("<h4>Source of %1 (kept by the legacy format)</h4><pre>%2</pre>").arg(esc(cls), esc(source));
    return h;
}

} // namespace

FileInfoPanel::FileInfoPanel(QWidget *parent)
    : QTextBrowser(parent)
{
    setOpenExternalLinks(false);
}

void FileInfoPanel::setDocument(const std::shared_ptr<const Document> &doc) { setHtml(doc ? html(*doc) : QString()); }

QString FileInfoPanel::html(const Document &doc)
{
    return summary(doc) + contents(doc) + security(doc.security) + modules(doc);
}

} // namespace te
