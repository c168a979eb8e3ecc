"""erf from float64-capable elementwise ops, for float64 graphs.

ONNX Runtime's CPU provider has no float64 Erf kernel, and a float32 Erf inside a float64 graph
moves the LRP maps by up to 6e-4 (tools/export_onnx/README.md). This is W. J. Cody's rational Chebyshev
approximation (Math. Comp. 23, 1969; the CALERF routine), ~1e-16 relative, with the three ranges
selected by Where so it exports as plain Abs/Mul/Add/Div/Exp/Floor/Where nodes. A mixed graph's
float64 forward pass uses erf_float32 instead (README, "Precision").
"""
import torch

_SMALL_NUM = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
              3.20937758913846947e03, 1.85777706184603153e-1)
_SMALL_DEN = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
              2.84423683343917062e03)
_MID_NUM = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
            2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
            2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_MID_DEN = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
            1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
            3.43936767414372164e03, 1.23033935480374942e03)
_LARGE_NUM = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
              1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_LARGE_DEN = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
              6.05183413124413191e-2, 2.33520497626869185e-3)
_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1


def _ratio(t, num, den):
    """Cody's nested evaluation: (num[-1]·t^k + num[0]·t^(k-1) + …) / (t^k + den[0]·t^(k-1) + …)."""
    k = len(den)
    xnum = num[-1] * t
    xden = t
    for i in range(k - 1):
        xnum = (xnum + num[i]) * t
        xden = (xden + den[i]) * t
    return (xnum + num[k - 1]) / (xden + den[k - 1])


def _exp_minus_square(y):
    """exp(-y²) split as exp(-ys²)·exp(-(y-ys)(y+ys)) with ys = floor(16y)/16 (Cody's accuracy trick)."""
    ys = torch.floor(y * 16.0) / 16.0
    return torch.exp(-ys * ys) * torch.exp(-(y - ys) * (y + ys))


def erf_cody(x):
    y = torch.abs(x)
    small = x * _ratio(x * x, _SMALL_NUM, _SMALL_DEN)
    y_mid = torch.clamp(y, min=0.5, max=4.0)
    erfc_mid = _ratio(y_mid, _MID_NUM, _MID_DEN) * _exp_minus_square(y_mid)
    y_large = torch.clamp(y, min=4.0, max=27.0)  # erfc(27) underflows: erf is exactly 1 beyond
    z = 1.0 / (y_large * y_large)
    tail = z * _ratio(z, _LARGE_NUM, _LARGE_DEN)
    erfc_large = (_ONE_OVER_SQRT_PI - tail) / y_large * _exp_minus_square(y_large)
    erfc = torch.where(y <= 4.0, erfc_mid, erfc_large)
    return torch.where(y <= 0.5, small, torch.sign(x) * (1.0 - erfc))


def erf_float32(x):
    """erf through ONNX Runtime's float32 kernel, in x's dtype. In a mixed graph's float64 forward pass
    this replaces erf_cody, whose ~40 elementwise ops per element cost as much as the pass's matrix
    products on CPU; the maps' error stays far below float32's (README, "Precision")."""
    return torch.erf(x) if x.dtype == torch.float32 else torch.erf(x.to(torch.float32)).to(x.dtype)
