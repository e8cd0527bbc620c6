/*
 * rose.h — the umbrella header endpoints and cron jobs include.
 */
#ifndef ROSE_H
#define ROSE_H

#define ROSE_VERSION "0.1.0"

#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/text.h"
#include "http/fields.h"
#include "http/http.h"
#include "store/store.h"
#include "store/users.h"

#endif
