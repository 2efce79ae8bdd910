import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="session")
def _two_threads():
    """The README's figures are quoted at 2 threads: pin both libraries to the same count."""
    import cvkernels

    old = torch.get_num_threads()
    torch.set_num_threads(2)
    cvkernels.set_num_threads(2)
    yield
    torch.set_num_threads(old)
    cvkernels.set_num_threads(None)
