// A widget that includes the app; tst_layers_catches must fail on it.
#include "app/gui/mainwindow.h"
