#include "widgets/welcomepage.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace te {

WelcomePage::WelcomePage(QWidget *parent)
    : QWidget(parent)
    , m_recent(new QListWidget(this))
    , m_problem(new QLabel(this))
{
    m_problem->setObjectName(QStringLiteral("problem"));
    m_problem->setWordWrap(true);
    m_problem->setTextFormat(Qt::RichText);
    m_problem->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problem->setMargin(10);
    m_problem->setStyleSheet(QStringLiteral("QLabel#problem { border: 2px solid #dc322f; border-radius: 4px; }"));
    m_problem->hide();
    auto *outer = new QVBoxLayout(this);
    outer->addStretch(1);
    auto *title = new QLabel(tr("<h1>Torch Explorer</h1>"), this);
    auto *hint = new QLabel(tr("Open a PyTorch file to see what is inside: state dicts, checkpoints, whole "
                               "pickled models, TorchScript, legacy files.<br>Nothing in a file is executed. "
                               "You can also drop a file on this window."),
                            this);
    hint->setWordWrap(true);
    auto *open = new QPushButton(tr("Open a file…"), this);
    auto *hub = new QPushButton(tr("Open from Hugging Face Hub…"), this);
    hub->setToolTip(tr("Look at a model on the Hub without downloading it"));
    auto *demo = new QPushButton(tr("Open the demo model"), this);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(open);
    buttons->addWidget(hub);
    buttons->addWidget(demo);
    buttons->addStretch(1);
    auto *column = new QVBoxLayout;
    column->addWidget(m_problem);
    column->addWidget(title);
    column->addWidget(hint);
    column->addLayout(buttons);
    column->addWidget(new QLabel(tr("<b>Recent files</b>"), this));
    column->addWidget(m_recent);
    m_recent->setMaximumHeight(180);
    auto *center = new QHBoxLayout;
    center->addStretch(1);
    center->addLayout(column, 3);
    center->addStretch(1);
    outer->addLayout(center);
    outer->addStretch(2);
    connect(open, &QPushButton::clicked, this, &WelcomePage::openRequested);
    connect(hub, &QPushButton::clicked, this, &WelcomePage::hubRequested);
    connect(demo, &QPushButton::clicked, this, &WelcomePage::demoRequested);
    connect(m_recent, &QListWidget::itemActivated, this,
            [this](QListWidgetItem *item) { emit recentRequested(item->data(Qt::UserRole).toString()); });
}

void WelcomePage::showProblem(const QString &title, const QString &message)
{
    m_problem->setText(
        QStringLiteral("<b style='color:#dc322f'>%1</b><br>%2").arg(title.toHtmlEscaped(), message.toHtmlEscaped()));
    m_problem->show();
}

void WelcomePage::clearProblem()
{
    m_problem->clear();
    m_problem->hide();
}

void WelcomePage::setRecentFiles(const QStringList &files)
{
    m_recent->clear();
    for (const QString &f : files) {
        auto *item = new QListWidgetItem(QStringLiteral("%1 — %2").arg(QFileInfo(f).fileName(), f), m_recent);
        item->setData(Qt::UserRole, f);
    }
    if (files.isEmpty())
        new QListWidgetItem(tr("(none yet)"), m_recent);
}

} // namespace te
