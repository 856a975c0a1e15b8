// Everything of the UET wire layer in one include: constants, PDS/SES header codecs,
// the whole-packet parser and CRC32C.
#pragma once

#include "wire/constants.h"
#include "wire/crc32c.h"
#include "wire/packet.h"
#include "wire/pds.h"
#include "wire/ses.h"
#include "wire/status.h"
