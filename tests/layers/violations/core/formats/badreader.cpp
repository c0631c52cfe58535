// A file that breaks every rule tst_layers checks; tst_layers_catches must fail on it.
#include <QString>
#include <torch/script.h>
#include "widgets/tensorpanel.h"
#include "readersupport.h"
