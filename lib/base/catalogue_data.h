/* SPDX-License-Identifier: Apache-2.0 */
/* The tables scripts/gen-catalogue writes (catalogue_data.c); only
 * lib/base/catalogue.c reads them. */
#ifndef VGPUDM_CATALOGUE_DATA_H
#define VGPUDM_CATALOGUE_DATA_H

#include "catalogue.h"

extern const struct vdm_cat_gpu vdm_cat_gpus_[];
extern const size_t vdm_cat_n_gpus_;
extern const struct vdm_cat_series vdm_cat_series_[];
extern const size_t vdm_cat_n_series_;
extern const struct vdm_cat_pci vdm_cat_pcis_[];
extern const size_t vdm_cat_n_pcis_;

#endif
