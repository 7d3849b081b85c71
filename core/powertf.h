/* powertf.h - the Yeo-Johnson power transform, as scikit-learn's
 * PowerTransformer(method="yeo-johnson", standardize=True) computes it.
 *
 * λ maximises the Yeo-Johnson log-likelihood
 *     -n/2 * log(var(T_λ(x))) + (λ - 1) * Σ sign(x_i) log(1 + |x_i|)
 * found with Brent's method after scipy's downhill bracket search started from
 * (-2, 2) (scipy.optimize.brent(..., brack=(-2, 2)), tol 1.48e-8), exactly the steps
 * scikit-learn takes; the transformed values are then standardised to mean 0 and
 * (population) standard deviation 1.  Constant input (or fewer than two values) gives
 * λ = 1 and all outputs 0.  Used by the complements recommender (recommend.h).
 */
#ifndef RS_POWERTF_H
#define RS_POWERTF_H

#include <stddef.h>

/* T_λ(x) for one value. */
double rs_yeojohnson(double x, double lambda);

/* The maximum-likelihood λ of x[0..n) (1 for constant input or n < 2). */
double rs_yeojohnson_lambda(const double *x, size_t n);

/* out[i] = standardised T_λ(x[i]) with the maximum-likelihood λ; returns λ.  out may
 * alias x.  Non-finite inputs are not allowed (the caller filters them). */
double rs_yeojohnson_fit_transform(const double *x, size_t n, double *out);

#endif
