#include "widgets/banner.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QToolButton>

namespace te {

Banner::Banner(QWidget *parent)
    : QFrame(parent)
    , m_text(new QLabel(this))
    , m_close(new QToolButton(this))
{
    setObjectName(QStringLiteral("banner"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 6, 4, 6);
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    layout->addWidget(m_text, 1);
    m_close->setText(QStringLiteral("✕"));
    m_close->setAutoRaise(true);
    m_close->setToolTip(tr("Dismiss this message"));
    m_close->setAccessibleName(tr("Dismiss"));
    layout->addWidget(m_close, 0, Qt::AlignTop);
    connect(m_text, &QLabel::linkActivated, this, &Banner::linkActivated);
    connect(m_close, &QToolButton::clicked, this, &QWidget::hide);
    hide();
}

void Banner::showMessage(const QString &text, bool danger, bool rich)
{
    m_danger = danger;
    m_text->setTextFormat(rich ? Qt::RichText : Qt::PlainText);
    m_text->setText(text);
    // The whole strip, the dismiss button included, in the banner's colours.
    setStyleSheet(danger ? QStringLiteral("#banner, #banner * { background:#dc322f; color:white; font-weight:bold; }")
                         : QStringLiteral("#banner, #banner * { background:palette(highlight); "
                                          "color:palette(highlighted-text); }"));
    show();
}

QString Banner::text() const { return m_text->text(); }

void Banner::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Escape) {
        hide();
        return;
    }
    QFrame::keyPressEvent(event);
}

} // namespace te
