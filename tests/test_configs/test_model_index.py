"""model-index.yml and the metafiles it imports, in mmrotate's and mmdet's
format (``Collections`` / ``Models`` with ``Name``, ``In Collection``,
``Config``, ``Metadata``, ``Results``).

Every import exists; every ``Config:`` a metafile names (a model's, its
teacher's and student's, the benchmark's) exists and loads with
``Config.fromfile`` (``mmrotate::`` / ``mmdet::`` paths from the installed
package); every DKD config of configs/ is a model of a metafile; each model
names a collection of its file, and its teacher entry agrees with the
config's ``model.teacher`` / ``teacher_ckpt``; each folder's README.md names
every config of its metafile; and every figure of a model's ``Results`` (and
of its benchmark's teacher and student) stands in the docs/benchmarks.md
section it names, so no number comes without its table.  Configs are only
loaded, never built.
"""
import glob
import os.path as osp
import re
from functools import lru_cache
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml
from mmengine.config import Config
from mmengine.utils import get_installed_path

import dkd_mm  # noqa: F401  (registration, as the configs' custom_imports)
from dkd_mm.testing._utils import REPO_ROOT

INDEX = osp.join(REPO_ROOT, 'model-index.yml')
BENCHMARKS = osp.join(REPO_ROOT, 'docs', 'benchmarks.md')
# The configs that must be in a metafile: DKD's own and its ablations.
DKD_PATTERNS = ('configs/*/dkd_*.py', 'configs/*/ablation_*.py')


def load_yaml(path: str):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def imports() -> List[str]:
    return list(load_yaml(INDEX)['Import'])


def metafiles() -> Dict[str, dict]:
    """Import path -> parsed metafile (those that exist)."""
    return {
        p: load_yaml(osp.join(REPO_ROOT, p))
        for p in imports() if osp.isfile(osp.join(REPO_ROOT, p))
    }


def models() -> List[Tuple[str, dict]]:
    return [(path, model) for path, meta in metafiles().items()
            for model in meta['Models']]


MODELS = models()
MODEL_IDS = [model['Name'] for _, model in MODELS]
DKD_CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT) for pattern in DKD_PATTERNS
    for p in glob.glob(osp.join(REPO_ROOT, pattern)))


def config_paths(node, where: str = '') -> Iterator[Tuple[str, str]]:
    """Every ``Config:`` value under ``node``, with where it sits."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'Config':
                yield f'{where}.Config'.lstrip('.'), value
            else:
                yield from config_paths(value, f'{where}.{key}')
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from config_paths(value, f'{where}[{i}]')


def resolve(path: str) -> str:
    """A metafile's config path on disk: repository-relative, or
    ``mmrotate::`` / ``mmdet::`` under the installed package's configs."""
    if '::' in path:
        package, rel = path.split('::', 1)
        return osp.join(get_installed_path(package), '.mim', 'configs', rel)
    return osp.join(REPO_ROOT, path)


@lru_cache(maxsize=None)
def load(path: str) -> Config:
    return Config.fromfile(resolve(path))


@lru_cache(maxsize=None)
def benchmark_section(title: str) -> str:
    """The text of docs/benchmarks.md's section ``## <title>`` (the title
    alone or followed by `` (command)``), its heading included, up to the
    next ``## `` heading."""
    with open(BENCHMARKS, encoding='utf-8') as f:
        text = f.read()
    heading = re.compile(r'^## ' + re.escape(title) + r'( \(.*\))?\s*$', re.M)
    found = list(heading.finditer(text))
    assert len(found) == 1, (f'docs/benchmarks.md has {len(found)} '
                             f'sections "## {title}"')
    start = found[0].start()
    end = text.find('\n## ', found[0].end())
    return text[start:] if end < 0 else text[start:end]


def test_index_imports_every_metafile_once_and_they_exist():
    paths = imports()
    assert paths, 'model-index.yml imports nothing'
    assert len(paths) == len(set(paths)), paths
    missing = [p for p in paths if not osp.isfile(osp.join(REPO_ROOT, p))]
    assert not missing, f'model-index.yml imports missing files: {missing}'
    on_disk = sorted(
        osp.relpath(p, REPO_ROOT) for p in glob.glob(
            osp.join(REPO_ROOT, 'configs', '*', 'metafile.yml')))
    assert sorted(paths) == on_disk, 'a metafile is not imported'


def test_every_dkd_config_folder_has_a_metafile_and_readme():
    folders = sorted({osp.dirname(p) for p in DKD_CONFIGS})
    assert folders, 'no DKD config found'
    for folder in folders:
        assert f'{folder}/metafile.yml' in imports(), folder
        assert osp.isfile(osp.join(REPO_ROOT, folder, 'README.md')), folder


def test_every_dkd_config_is_a_model_of_a_metafile():
    named = {model['Config'] for _, model in MODELS}
    missing = [p for p in DKD_CONFIGS if p not in named]
    assert not missing, f'DKD configs in no metafile: {missing}'


def test_names_are_unique():
    assert len(MODEL_IDS) == len(set(MODEL_IDS)), 'a model name repeats'
    collections = [
        c['Name'] for meta in metafiles().values() for c in meta['Collections']
    ]
    assert len(collections) == len(set(collections)), collections


@pytest.mark.parametrize('path', imports())
def test_collections_and_readme(path):
    meta = metafiles()[path]
    folder = osp.dirname(path)
    names = {c['Name'] for c in meta['Collections']}
    for collection in meta['Collections']:
        assert collection['README'] == f'{folder}/README.md', collection
        assert osp.isfile(osp.join(REPO_ROOT, collection['README']))
    with open(osp.join(REPO_ROOT, folder, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    for model in meta['Models']:
        assert model['In Collection'] in names, (
            f"{model['Name']}: In Collection {model['In Collection']!r} is "
            f'no collection of {path} ({sorted(names)})')
        assert osp.dirname(model['Config']) == folder, model['Config']
        assert model['Name'] == osp.splitext(osp.basename(
            model['Config']))[0], model['Name']
        assert osp.basename(model['Config']) in readme, (
            f"{folder}/README.md does not name {model['Config']}")


@pytest.mark.parametrize('path,model', MODELS, ids=MODEL_IDS)
def test_every_config_named_exists_and_loads(path, model):
    for where, config in config_paths(model):
        assert osp.isfile(resolve(config)), f'{where}: {config} not found'
        load(config)


@pytest.mark.parametrize('path,model', MODELS, ids=MODEL_IDS)
def test_teacher_entry_is_the_configs(path, model):
    cfg = load(model['Config'])
    assert cfg.model.type == 'dkd_mm.DKDDistiller', model['Config']
    teacher = model['Metadata']['Teacher']
    named = cfg.model.teacher
    if osp.isabs(named):  # '{{fileDirname}}/...' resolves to an absolute path
        named = osp.relpath(named, REPO_ROOT)
    assert teacher['Config'] == named, model['Name']
    if 'Weights' in teacher:
        assert teacher['Weights'] == cfg.model.teacher_ckpt, model['Name']


@pytest.mark.parametrize('path,model', MODELS, ids=MODEL_IDS)
def test_figures_stand_in_the_benchmark_table_they_name(path, model):
    results = model.get('Results', [])
    bench = model['Metadata'].get('Benchmark')
    if not results:
        return
    assert bench, f"{model['Name']}: Results without their Benchmark"
    doc, title = bench['Table'].split(', ', 1)
    assert doc == 'docs/benchmarks.md', bench['Table']
    section = benchmark_section(title)
    for key in ('Command', 'Date'):
        assert str(bench[key]) in section, (
            f"{model['Name']}: {key} {bench[key]!r} is not in "
            f'"## {title}"')
    figures = [(r['Dataset'], k, v) for r in results
               for k, v in r['Metrics'].items()]
    for role in ('Teacher', 'Student'):
        figures += [(role, k, v)
                    for k, v in bench.get(role, {}).get('Metrics', {}).items()]
    for where, key, value in figures:
        assert f'| {value:.3f} |' in section, (
            f"{model['Name']}: {where} {key} {value} is not in "
            f'docs/benchmarks.md "## {title}"')
    for result in results:
        assert result['Task'] and result['Dataset'] and result['Metrics']
