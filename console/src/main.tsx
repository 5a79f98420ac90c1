import { render } from 'preact';
import { ApiDownBanner, PageTitle } from './components.tsx';
import { ModulesPage } from './pages/modules.tsx';
import { RoutingPage } from './pages/routing.tsx';
import { RunDetailPage } from './pages/run-detail.tsx';
import { RunsPage } from './pages/runs.tsx';
import { ServicesPage } from './pages/services.tsx';
import { SuggestionsPage } from './pages/suggestions.tsx';
import { TaskDetailPage } from './pages/task-detail.tsx';
import { WorkflowDetailPage, WorkflowsPage } from './pages/workflows.tsx';
import { Link, match, type Place, usePlace } from './router.tsx';
import './styles.css';

const SECTIONS = [
  { to: '/runs', label: 'Runs', owns: ['/runs', '/tasks', ''] },
  { to: '/services', label: 'Services', owns: ['/services'] },
  { to: '/modules', label: 'Modules', owns: ['/modules'] },
  { to: '/routing', label: 'Routing', owns: ['/routing'] },
  { to: '/suggestions', label: 'Suggestions', owns: ['/suggestions'] },
  { to: '/workflows', label: 'Workflows', owns: ['/workflows'] },
] as const;

function sectionOf(path: string): string | undefined {
  const head = `/${path.split('/')[1] ?? ''}`;
  return SECTIONS.find((s) => s.owns.some((own) => (own === '' ? path === '' : head === own)))?.to;
}

function Page({ place }: { place: Place }) {
  const { path } = place;
  if (path === '' || path === '/runs') return <RunsPage place={place} />;
  let params = match('/runs/:id', path);
  if (params) return <RunDetailPage key={params.id} executionId={params.id as string} />;
  params = match('/tasks/:id', path);
  if (params) return <TaskDetailPage key={params.id} taskId={params.id as string} />;
  if (path === '/services') return <ServicesPage />;
  if (path === '/modules') return <ModulesPage />;
  if (path === '/routing') return <RoutingPage />;
  if (path === '/suggestions') return <SuggestionsPage place={place} />;
  if (path === '/workflows') return <WorkflowsPage />;
  params = match('/workflows/:id', path);
  if (params) return <WorkflowDetailPage key={params.id} workflowId={params.id as string} />;
  return (
    <section>
      <PageTitle title="Not found">No such page</PageTitle>
      <p>
        The console has no page at <code>/console{path}</code>. <Link to="/runs">See the runs</Link>.
      </p>
    </section>
  );
}

function App() {
  const place = usePlace();
  const current = sectionOf(place.path);
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <Link to="/runs" class="brand">
          VoBee console
        </Link>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((section) => (
              <li key={section.to}>
                <Link to={section.to} aria-current={current === section.to ? 'page' : undefined}>
                  {section.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <ApiDownBanner />
      <main id="content" tabIndex={-1}>
        <Page place={place} />
      </main>
    </>
  );
}

const root = document.getElementById('app') as HTMLElement;
// The page's "Loading…" line goes: render adds to what is there rather than replacing it.
root.textContent = '';
render(<App />, root);
