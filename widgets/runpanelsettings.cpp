// The Run tab's settings: the inputs table and files read into it (chosen, dropped or
// given as specs), the image preset, class names, the second weight set and the layers
// switch. The rest of RunPanel is in runpanel.cpp.
#include "widgets/runpanel.h"

#include "core/runtime/fileinput.h"
#include "core/runtime/modelinputs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QPushButton>
#include <QTableWidget>

namespace te {

namespace {

QString shapeString(const std::vector<int64_t> &shape)
{
    QStringList dims;
    for (int64_t d : shape)
        dims << QString::number(d);
    return dims.join(QLatin1Char('x'));
}

QString fillString(const InputSpec &s)
{
    std::string t = inputSpecText(s);
    return QString::fromStdString(s.fill == "data" ? t : t.substr(0, t.find(':')));
}

// The image presets of imagetransform.h, as the preset picker offers them.
struct Preset {
    const char *name, *option;
};
constexpr Preset kPresets[] = {
    {QT_TRANSLATE_NOOP("te::RunPanel", "ImageNet mean/std"), "imagenet"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "[0, 1]"), "unit"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "[0, 255]"), "raw"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "CLIP mean/std"), "clip"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "[-1, 1]"), "half"},
    {QT_TRANSLATE_NOOP("te::RunPanel", "ImageNet, BGR"), "imagenet,bgr"},
};

bool isImagePath(const QString &path)
{
    static const QStringList suffixes{QStringLiteral("png"), QStringLiteral("jpg"), QStringLiteral("jpeg"),
                                      QStringLiteral("bmp")};
    return suffixes.contains(QFileInfo(path).suffix().toLower());
}

} // namespace

void RunPanel::addImagePresets(QComboBox *box)
{
    for (const Preset &p : kPresets)
        box->addItem(tr(p.name), QString::fromLatin1(p.option));
}

void RunPanel::fillInputs(const std::vector<InputSpec> &specs)
{
    m_inputs->setRowCount(static_cast<int>(specs.size()));
    for (size_t i = 0; i < specs.size(); ++i) {
        const InputSpec &s = specs[i];
        const int r = static_cast<int>(i);
        auto *name = new QTableWidgetItem(QString::fromStdString(s.name));
        name->setFlags(name->flags() & ~Qt::ItemIsEditable);
        name->setData(Qt::UserRole, s.isTensor);
        name->setData(Qt::UserRole + 1, QString::fromStdString(s.type));
        m_inputs->setItem(r, 0, name);
        m_inputs->setItem(r, 1,
                          new QTableWidgetItem(s.isTensor ? shapeString(s.shape) : QString::fromStdString(s.text)));
        m_inputs->setItem(
            r, 2, new QTableWidgetItem(s.isTensor ? QString::fromStdString(s.dtype) : QString::fromStdString(s.type)));
        m_inputs->setItem(r, 3, new QTableWidgetItem(s.isTensor ? fillString(s) : QString()));
    }
    m_inputs->resizeColumnsToContents();
    m_inputs->resizeRowsToContents();
    // As tall as its rows (up to about four), so the outputs get the room left.
    int height = m_inputs->horizontalHeader()->height() + 2 * m_inputs->frameWidth() + 4;
    for (int r = 0; r < std::min(m_inputs->rowCount(), 4); ++r)
        height += m_inputs->rowHeight(r);
    m_inputs->setMaximumHeight(std::max(height, 60));
}

// A row's fill is a made-up fill or a file ("image:…"); for a file the shape column says
// what the model takes, which a picture is sized to.
std::vector<InputSpec> RunPanel::inputsFromTable(std::vector<std::vector<int64_t>> *modelShapes, QString *error) const
{
    std::vector<InputSpec> specs;
    for (int r = 0; r < m_inputs->rowCount(); ++r) {
        InputSpec s;
        const bool tensor = m_inputs->item(r, 0)->data(Qt::UserRole).toBool();
        const QString value = m_inputs->item(r, 1)->text().trimmed();
        const QString fill = m_inputs->item(r, 3) ? m_inputs->item(r, 3)->text().trimmed() : QString();
        const QString dtype = m_inputs->item(r, 2)->text().trimmed();
        std::string why;
        InputSpec shape;
        modelShapes->push_back(tensor && parseInputSpec("zeros:" + value.toStdString() + ":float32", &shape, &why)
                                   ? shape.shape
                                   : std::vector<int64_t>{});
        const std::string text = !tensor ? "value:" + value.toStdString()
                                 : isFileInputSpec(fill.toStdString())
                                     ? fill.toStdString()
                                     : (fill + QLatin1Char(':') + value + QLatin1Char(':') + dtype).toStdString();
        if (!parseInputSpec(text, &s, &why)) {
            *error = tr("input %1: %2").arg(m_inputs->item(r, 0)->text(), QString::fromStdString(why));
            return {};
        }
        s.name = m_inputs->item(r, 0)->text().toStdString();
        if (!tensor)
            s.type = m_inputs->item(r, 0)->data(Qt::UserRole + 1).toString().toStdString();
        specs.push_back(std::move(s));
    }
    return specs;
}

void RunPanel::setInputFile(int row, const QString &path)
{
    if (row < 0)
        row = m_inputs->currentRow();
    if (row < 0 || !m_inputs->item(row, 0) || !m_inputs->item(row, 0)->data(Qt::UserRole).toBool()) {
        row = -1;
        for (int r = 0; r < m_inputs->rowCount() && row < 0; ++r)
            if (m_inputs->item(r, 0)->data(Qt::UserRole).toBool())
                row = r;
    }
    if (row < 0) {
        m_latency->setText(tr("The model takes no tensor input to read %1 into.").arg(QFileInfo(path).fileName()));
        return;
    }
    const QString suffix = QFileInfo(path).suffix().toLower();
    QString fill;
    if (isImagePath(path))
        fill = QStringLiteral("image:%1:%2").arg(path, m_preset->currentData().toString());
    else if (suffix == QLatin1String("npy"))
        fill = QStringLiteral("npy:") + path;
    else
        fill = QStringLiteral("tensor:%1#").arg(path);
    if (!m_inputs->item(row, 3))
        m_inputs->setItem(row, 3, new QTableWidgetItem);
    m_inputs->item(row, 3)->setText(fill);
    m_inputs->item(row, 3)->setToolTip(fill);
    m_inputs->setCurrentCell(row, 3);
    m_latency->setText(fill.startsWith(QLatin1String("tensor:"))
                           ? tr("Type the tensor's key after # in the Fill cell (such as tensor:FILE#image).")
                           : tr("Input %1 reads %2.").arg(m_inputs->item(row, 0)->text(), QFileInfo(path).fileName()));
}

bool RunPanel::setInputSpec(int row, const QString &spec, QString *error)
{
    if (row < 0 || row >= m_inputs->rowCount()) {
        *error = tr("the model has no input %1").arg(row + 1);
        return false;
    }
    const bool tensor = m_inputs->item(row, 0)->data(Qt::UserRole).toBool();
    if (!tensor) {
        m_inputs->item(row, 1)->setText(spec.startsWith(QLatin1String("value:")) ? spec.mid(6) : spec);
        return true;
    }
    if (!m_inputs->item(row, 3))
        m_inputs->setItem(row, 3, new QTableWidgetItem);
    if (isFileInputSpec(spec.toStdString())) {
        m_inputs->item(row, 3)->setText(spec);
        return true;
    }
    const QStringList parts = spec.split(QLatin1Char(':'));
    m_inputs->item(row, 3)->setText(parts.value(0));
    if (parts.size() > 1)
        m_inputs->item(row, 1)->setText(parts[1]);
    if (parts.size() > 2)
        m_inputs->item(row, 2)->setText(parts[2]);
    return true;
}

void RunPanel::chooseInputFile()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Read an input from a file"), QString(),
        tr("Inputs (*.png *.jpg *.jpeg *.bmp *.npy *.pt *.pth *.bin *.safetensors);;All files (*)"));
    if (!path.isEmpty())
        setInputFile(-1, path);
}

// Rewrites the options of every picture input to the chosen preset.
void RunPanel::applyPreset()
{
    for (int r = 0; r < m_inputs->rowCount(); ++r) {
        QTableWidgetItem *fill = m_inputs->item(r, 3);
        if (!fill || !fill->text().startsWith(QLatin1String("image:")))
            continue;
        QString path = fill->text().mid(6);
        // Options follow the last colon, unless that colon is part of the path ("C:\\…").
        const int colon = path.lastIndexOf(QLatin1Char(':'));
        if (colon > 1 && !QFileInfo::exists(path))
            path.truncate(colon);
        fill->setText(QStringLiteral("image:%1:%2").arg(path, m_preset->currentData().toString()));
    }
}

bool RunPanel::setLabels(const QString &spec, QString *error)
{
    Labels labels;
    std::string why;
    if (!spec.isEmpty() && !readLabels(spec.toStdString(), &labels, &why)) {
        *error = QString::fromStdString(why);
        return false;
    }
    m_labels = std::move(labels);
    // A file read is the fourth entry, named after it, below "From file…".
    if (m_labelsPicker->count() > 3)
        m_labelsPicker->removeItem(3);
    if (!spec.isEmpty() && spec != QLatin1String("imagenet"))
        m_labelsPicker->addItem(QFileInfo(spec).fileName());
    m_labelsPicker->setCurrentIndex(spec.isEmpty() ? 0 : spec == QLatin1String("imagenet") ? 1 : 3);
    m_labelsPicker->setToolTip(spec.isEmpty() ? tr("No class names") : QString::fromStdString(m_labels.source));
    plotOutput(m_outputPicker->currentIndex());
    return true;
}

void RunPanel::chooseLabels(int index)
{
    QString spec;
    if (index == 3)
        return; // the file already read
    if (index == 1) {
        spec = QStringLiteral("imagenet");
    } else if (index == 2) {
        spec = QFileDialog::getOpenFileName(this, tr("Class names"), QString(),
                                            tr("Labels (*.txt *.json);;All files (*)"));
        if (spec.isEmpty()) { // cancelled: keep what was chosen
            m_labelsPicker->setCurrentIndex(m_labels.names.empty()                      ? 0
                                            : m_labels.source.rfind("ImageNet", 0) == 0 ? 1
                                                                                        : 3);
            return;
        }
    }
    QString error;
    if (!setLabels(spec, &error)) {
        m_latency->setText(tr("Class names not read: %1").arg(error));
        m_labelsPicker->setCurrentIndex(0);
    }
}

QString RunPanel::nameB() const
{
    if (m_weightsBUnfixed && m_weights)
        return tr("%1 without the fix").arg(QFileInfo(QString::fromStdString(m_weights->path)).fileName());
    return QFileInfo(m_weightsBPath).fileName();
}

bool RunPanel::setWeightsBUnfixed()
{
    if (!m_weights || m_rules.empty())
        return false;
    setWeightsB(QString());
    m_weightsBUnfixed = true;
    m_weightsB->setText(tr("B: without the fix"));
    m_weightsB->setToolTip(tr("B is %1 as it is, loaded without the rules of the fix").arg(nameB()));
    m_latency->setText(tr("Run to compare with %1.").arg(nameB()));
    return true;
}

void RunPanel::setWeightsB(const QString &path)
{
    m_weightsBPath = path;
    m_weightsBUnfixed = false;
    m_resultB.reset();
    m_weightsB->setText(path.isEmpty() ? tr("Compare weights…") : tr("B: %1").arg(QFileInfo(path).fileName()));
    m_weightsB->setToolTip(path.isEmpty()
                               ? tr("Run the same inputs with a second checkpoint and compare the outputs")
                               : tr("%1\nClick to choose another; cancel the dialog to stop comparing").arg(path));
    m_comparison->setVisible(false);
    if (m_result && m_model)
        plotOutput(m_outputPicker->currentIndex());
    if (!path.isEmpty())
        m_latency->setText(tr("Run to compare with %1.").arg(QFileInfo(path).fileName()));
}

// With a fix applied to the checkpoint, B can be the checkpoint without it: what the fix
// changes in the outputs. Otherwise B is another file.
void RunPanel::chooseWeightsB()
{
    if (m_weights && !m_rules.empty()) {
        QMenu menu(this);
        QAction *unfixed = menu.addAction(tr("The checkpoint without the fix"));
        QAction *other = menu.addAction(tr("Another checkpoint…"));
        QAction *none = menu.addAction(tr("No comparison"));
        none->setEnabled(m_weightsBUnfixed || !m_weightsBPath.isEmpty());
        QAction *chosen = menu.exec(m_weightsB->mapToGlobal(QPoint(0, m_weightsB->height())));
        if (chosen == unfixed)
            setWeightsBUnfixed();
        else if (chosen == none)
            setWeightsB(QString());
        if (chosen != other)
            return;
    }
    setWeightsB(QFileDialog::getOpenFileName(this, tr("Second weights for the same inputs"), QString(),
                                             tr("Checkpoints (*.pt *.pth *.ckpt *.bin *.safetensors);;All files (*)")));
}

void RunPanel::setCaptureLayers(bool on) { m_captureLayers->setChecked(on); }

void RunPanel::dragEnterEvent(QDragEnterEvent *event)
{
    const auto urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.front().isLocalFile() && m_model)
        event->acceptProposedAction();
}

// A file dropped on a row of the inputs goes to that row; elsewhere to the selected one.
void RunPanel::dropEvent(QDropEvent *event)
{
    const QString path = event->mimeData()->urls().front().toLocalFile();
    const QPoint at = m_inputs->viewport()->mapFrom(this, event->position().toPoint());
    setInputFile(m_inputs->viewport()->rect().contains(at) ? m_inputs->rowAt(at.y()) : -1, path);
    event->acceptProposedAction();
}

QString RunPanel::valuesCsv() const
{
    if (!m_result)
        return {};
    QString csv = QStringLiteral("output,index,value\n");
    for (const auto &o : m_result->outputs)
        for (size_t i = 0; i < o.values.size(); ++i)
            csv += QStringLiteral("%1,%2,%3\n").arg(QString::fromStdString(o.path)).arg(i).arg(o.values[i], 0, 'g', 17);
    return csv;
}

} // namespace te
