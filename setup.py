from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


setup(
    name='dkd_mm',
    version='0.1.0',
    description='Dynamic Knowledge Distillation (DKD, TGRS 2021) for '
    'OpenMMLab rotated and horizontal object detectors',
    long_description=readme(),
    long_description_content_type='text/markdown',
    # dkd_mm and its torch-free data half; bench/, tools/ and tests/ stay
    # in the checkout (run from its root: `python -m bench.run`).
    packages=find_packages(
        include=('dkd_mm', 'dkd_mm.*', 'dkd_mm_data', 'dkd_mm_data.*')),
    python_requires='>=3.8',
    # mmcv (with compiled ops) is built by tools/setup_env.sh; torch>=2.0 so
    # that users with GPUs keep their own CUDA build.
    install_requires=[
        'torch>=2.0', 'numpy<2', 'mmengine>=0.10,<1.0', 'mmdet>=3.0,<=3.1.0',
        'mmrotate==1.0.0rc1', 'shapely'
    ],
    # Used only by bench/ (mmrazor side by side), which is not installed;
    # see requirements/bench.txt.
    extras_require={'bench': ['mmrazor==1.0.0', 'ordered-set', 'joblib']},
    license='Apache License 2.0',
    zip_safe=False)
