/* powertf.c - Yeo-Johnson λ by maximum likelihood (scipy's bracket + Brent, as
 * scikit-learn's PowerTransformer does), then standardisation.  See powertf.h. */
#include "powertf.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

double rs_yeojohnson(double x, double lambda)
{
    const double eps = DBL_EPSILON; /* np.spacing(1.0) */
    if (x >= 0) {
        if (fabs(lambda) < eps)
            return log1p(x);
        return (pow(x + 1.0, lambda) - 1.0) / lambda;
    }
    if (fabs(lambda - 2.0) > eps)
        return -(pow(-x + 1.0, 2.0 - lambda) - 1.0) / (2.0 - lambda);
    return -log1p(-x);
}

typedef struct {
    const double *x;
    size_t n;
    double sum_log; /* Σ sign(x) log1p(|x|) */
} yj_data;

/* The negative log-likelihood scikit-learn minimises (+inf where the transformed
 * variance underflows, as there). */
static double neg_loglik(const yj_data *d, double lambda)
{
    /* two-pass variance (numpy's var) */
    double mean = 0;
    for (size_t i = 0; i < d->n; i++)
        mean += rs_yeojohnson(d->x[i], lambda);
    mean /= (double)d->n;
    double var = 0;
    for (size_t i = 0; i < d->n; i++) {
        double t = rs_yeojohnson(d->x[i], lambda) - mean;
        var += t * t;
    }
    var /= (double)d->n;
    if (!(var >= DBL_MIN) || !isfinite(var))
        return INFINITY;
    double ll = -(double)d->n / 2.0 * log(var) + (lambda - 1.0) * d->sum_log;
    return -ll;
}

/* scipy.optimize.bracket: a downhill search from (xa, xb) for a < b < c with
 * f(b) below f(a) and f(c). */
static void bracket(const yj_data *d, double *pxa, double *pxb, double *pxc, double *pfa,
                    double *pfb, double *pfc)
{
    const double gold = 1.618034, verysmall = 1e-21, grow_limit = 110.0;
    double xa = *pxa, xb = *pxb;
    double fa = neg_loglik(d, xa), fb = neg_loglik(d, xb);
    if (fa < fb) {
        double t = xa;
        xa = xb;
        xb = t;
        t = fa;
        fa = fb;
        fb = t;
    }
    double xc = xb + gold * (xb - xa), fc = neg_loglik(d, xc);
    for (int iter = 0; fc < fb && iter <= 1000; iter++) {
        double tmp1 = (xb - xa) * (fb - fc);
        double tmp2 = (xb - xc) * (fb - fa);
        double val = tmp2 - tmp1;
        double denom = fabs(val) < verysmall ? 2.0 * verysmall : 2.0 * val;
        double w = xb - ((xb - xc) * tmp2 - (xb - xa) * tmp1) / denom;
        double wlim = xb + grow_limit * (xc - xb);
        double fw;
        if ((w - xc) * (xb - w) > 0.0) {
            fw = neg_loglik(d, w);
            if (fw < fc) {
                xa = xb;
                xb = w;
                fa = fb;
                fb = fw;
                goto out;
            } else if (fw > fb) {
                xc = w;
                fc = fw;
                goto out;
            }
            w = xc + gold * (xc - xb);
            fw = neg_loglik(d, w);
        } else if ((w - wlim) * (wlim - xc) >= 0.0) {
            w = wlim;
            fw = neg_loglik(d, w);
        } else if ((w - wlim) * (xc - w) > 0.0) {
            fw = neg_loglik(d, w);
            if (fw < fc) {
                xb = xc;
                xc = w;
                w = xc + gold * (xc - xb);
                fb = fc;
                fc = fw;
                fw = neg_loglik(d, w);
            }
        } else {
            w = xc + gold * (xc - xb);
            fw = neg_loglik(d, w);
        }
        xa = xb;
        xb = xc;
        xc = w;
        fa = fb;
        fb = fc;
        fc = fw;
    }
out:
    *pxa = xa;
    *pxb = xb;
    *pxc = xc;
    *pfa = fa;
    *pfb = fb;
    *pfc = fc;
}

/* scipy.optimize.Brent.optimize (tol 1.48e-8, maxiter 500). */
static double brent(const yj_data *d)
{
    const double tol = 1.48e-8, mintol = 1.0e-11, cg = 0.3819660;
    double xa = -2.0, xb = 2.0, xc, fa, fb, fc;
    bracket(d, &xa, &xb, &xc, &fa, &fb, &fc);
    double x = xb, w = xb, v = xb, fw = fb, fv = fb, fx = fb;
    double a = xa < xc ? xa : xc, b = xa < xc ? xc : xa;
    double deltax = 0.0, rat = 0.0;
    for (int iter = 0; iter < 500; iter++) {
        double tol1 = tol * fabs(x) + mintol, tol2 = 2.0 * tol1;
        double xmid = 0.5 * (a + b);
        if (fabs(x - xmid) < (tol2 - 0.5 * (b - a)))
            break;
        if (fabs(deltax) <= tol1) {
            deltax = x >= xmid ? a - x : b - x;
            rat = cg * deltax;
        } else {
            double tmp1 = (x - w) * (fx - fv);
            double tmp2 = (x - v) * (fx - fw);
            double p = (x - v) * tmp2 - (x - w) * tmp1;
            tmp2 = 2.0 * (tmp2 - tmp1);
            if (tmp2 > 0.0)
                p = -p;
            tmp2 = fabs(tmp2);
            double dx_temp = deltax;
            deltax = rat;
            if (p > tmp2 * (a - x) && p < tmp2 * (b - x) && fabs(p) < fabs(0.5 * tmp2 * dx_temp)) {
                rat = p / tmp2;
                double u = x + rat;
                if ((u - a) < tol2 || (b - u) < tol2)
                    rat = xmid - x >= 0 ? tol1 : -tol1;
            } else {
                deltax = x >= xmid ? a - x : b - x;
                rat = cg * deltax;
            }
        }
        double u = fabs(rat) < tol1 ? (rat >= 0 ? x + tol1 : x - tol1) : x + rat;
        double fu = neg_loglik(d, u);
        if (fu > fx) {
            if (u < x)
                a = u;
            else
                b = u;
            if (fu <= fw || w == x) {
                v = w;
                w = u;
                fv = fw;
                fw = fu;
            } else if (fu <= fv || v == x || v == w) {
                v = u;
                fv = fu;
            }
        } else {
            if (u >= x)
                a = x;
            else
                b = x;
            v = w;
            w = x;
            x = u;
            fv = fw;
            fw = fx;
            fx = fu;
        }
    }
    return x;
}

double rs_yeojohnson_lambda(const double *x, size_t n)
{
    if (n < 2)
        return 1.0;
    int constant = 1;
    for (size_t i = 1; i < n && constant; i++)
        constant = x[i] == x[0];
    if (constant)
        return 1.0;
    yj_data d = {x, n, 0.0};
    for (size_t i = 0; i < n; i++)
        d.sum_log += (x[i] > 0 ? 1.0 : x[i] < 0 ? -1.0 : 0.0) * log1p(fabs(x[i]));
    double lambda = brent(&d);
    return isfinite(lambda) ? lambda : 1.0;
}

double rs_yeojohnson_fit_transform(const double *x, size_t n, double *out)
{
    double lambda = rs_yeojohnson_lambda(x, n);
    if (n == 0)
        return lambda;
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = rs_yeojohnson(x[i], lambda);
        mean += out[i];
    }
    mean /= (double)n;
    double var = 0;
    for (size_t i = 0; i < n; i++)
        var += (out[i] - mean) * (out[i] - mean);
    double sd = sqrt(var / (double)n);
    /* StandardScaler replaces a (near-)zero scale by 1: a flat column becomes 0 */
    int flat = !(sd > 10.0 * DBL_EPSILON * fmax(1.0, fabs(mean)));
    for (size_t i = 0; i < n; i++)
        out[i] = flat ? 0.0 : (out[i] - mean) / sd;
    return lambda;
}
