import { useState } from 'preact/hooks';
import { api, apiPath, describeError } from '../api.ts';
import type { Module, ModuleHealth } from '../api-types.ts';
import { ActionButton, Empty, ErrorNote, Loading, PageTitle, StatusBadge } from '../components.tsx';
import { usePoll } from '../poll.ts';

const REFRESH_MS = 5_000;

/**
 * Modules by category with their health. Enabling or disabling one asks the API, which refuses
 * what would break a dependency ("Required by …"); the refusal is shown beside the module.
 */
export function ModulesPage() {
  const modules = usePoll<{ modules: Module[]; health: ModuleHealth }>(
    'modules',
    async () => {
      const [list, health] = await Promise.all([
        api<{ modules: Module[] }>('GET', '/modules'),
        api<ModuleHealth>('GET', '/modules/health'),
      ]);
      return { modules: list.modules, health };
    },
    { intervalMs: REFRESH_MS },
  );
  // What the last enable or disable of each module came to, said in place.
  const [outcomes, setOutcomes] = useState<Record<string, { ok: boolean; text: string }>>({});
  const toggle = async (module: Module) => {
    const verb = module.enabled ? 'disable' : 'enable';
    try {
      await api('POST', apiPath('modules', module.name, verb));
      setOutcomes({ ...outcomes, [module.name]: { ok: true, text: `${module.name} ${verb}d.` } });
    } catch (error) {
      setOutcomes({
        ...outcomes,
        [module.name]: { ok: false, text: `Could not ${verb} ${module.name}: ${describeError(error)}` },
      });
    }
    modules.refresh();
  };
  const byCategory = Map.groupBy(modules.data?.modules ?? [], (m) => m.category);
  const health = modules.data?.health;
  return (
    <section>
      <PageTitle title="Modules">Modules</PageTitle>
      {health ? (
        <p class="summary">
          {health.totalModules} modules: {health.enabled} enabled, {health.disabled} disabled;{' '}
          {health.healthy} healthy, {health.degraded} degraded, {health.unhealthy} unhealthy.
        </p>
      ) : null}
      <ErrorNote error={modules.error} prefix="Could not list the modules" />
      {modules.loading && !modules.data ? <Loading what="modules" /> : null}
      {modules.data?.modules.length === 0 ? <Empty>No module is registered.</Empty> : null}
      {[...byCategory.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([category, list]) => (
          <section key={category} aria-labelledby={`category-${category}`}>
            <h2 id={`category-${category}`}>{category}</h2>
            <ul class="modules">
              {list.map((module) => {
                const outcome = outcomes[module.name];
                const noteId = `module-note-${module.name}`;
                return (
                  <li key={module.name} class="card" data-module={module.name}>
                    <div class="module-head">
                      <h3>{module.name}</h3>
                      <StatusBadge status={module.health} />
                      <StatusBadge
                        status={module.enabled ? 'enabled' : 'disabled'}
                        label={module.enabled ? 'enabled' : 'disabled'}
                      />
                      <ActionButton
                        label={`${module.enabled ? 'Disable' : 'Enable'} ${module.name}`}
                        variant={module.enabled ? 'danger' : 'primary'}
                        describedBy={outcome ? noteId : undefined}
                        run={() => toggle(module)}
                      />
                    </div>
                    {module.description ? <p>{module.description}</p> : null}
                    <p class="muted">
                      Needs: {module.dependencies.length > 0 ? module.dependencies.join(', ') : 'nothing'}
                      {module.pins
                        ? ` · needed by ${module.pins} enabled module${module.pins === 1 ? '' : 's'}`
                        : ''}
                    </p>
                    <p
                      id={noteId}
                      class={`note ${outcome && !outcome.ok ? 'note-error' : ''}`}
                      role={outcome && !outcome.ok ? 'alert' : 'status'}
                    >
                      {outcome?.text ?? ''}
                    </p>
                  </li>
                );
              })}
            </ul>
          </section>
        ))}
    </section>
  );
}
