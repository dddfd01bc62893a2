import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
// Devanagari served with the app, so Hindi reads the same on every machine (unicode-range: fetched only for Hindi text).
import '@fontsource/noto-sans-devanagari/400.css';
import '@fontsource/noto-sans-devanagari/700.css';
import './i18n';
import './styles.css';
import { Layout } from './Layout';
import { RequireLogin } from './RequireLogin';
import { Account } from './pages/Account';
import { ApiKeys } from './pages/ApiKeys';
import { Approvals } from './pages/Approvals';
import { Audit } from './pages/Audit';
import { Alerts } from './pages/Alerts';
import { Collections } from './pages/Collections';
import { Discom } from './pages/Discom';
import { Postings } from './pages/Postings';
import { Dues } from './pages/Dues';
import { DuesConnection } from './pages/DuesConnection';
import { DuesTable } from './pages/DuesTable';
import { ForgotPassword } from './pages/ForgotPassword';
import { Home } from './pages/Home';
import { Login } from './pages/Login';
import { MyConnections } from './pages/MyConnections';
import { TagConnection } from './pages/TagConnection';
import { TagRequests } from './pages/TagRequests';
import { Upload, UploadJob } from './pages/Upload';
import { NewPayment } from './pages/NewPayment';
import { NotFound } from './pages/NotFound';
import { Offices } from './pages/Offices';
import { OrgHome } from './pages/OrgHome';
import { Outbox } from './pages/Outbox';
import { PaymentStatus } from './pages/PaymentStatus';
import { Payments } from './pages/Payments';
import { Recon } from './pages/Recon';
import { Register } from './pages/Register';
import { SandboxBank } from './pages/SandboxBank';
import { ReconBatch } from './pages/ThreeWay';
import { Users } from './pages/Users';
import { SessionProvider } from './session';

// Text first painted before the Devanagari face arrives can stay as empty boxes in Chromium
// (seen in the header), so the app waits for both weights (~100 KB, cached after) — at most 2 s.
const devanagari = Promise.all(['400', '700'].map((w) => document.fonts.load(`${w} 1em "Noto Sans Devanagari"`, 'कि')));
const fontsOrTimeout = Promise.race([devanagari, new Promise((resolve) => setTimeout(resolve, 2000))]).catch(() => undefined);

void fontsOrTimeout.then(() => createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<Home />} />
            <Route path="discoms/:code" element={<Discom />} />
            <Route path="login" element={<Login />} />
            <Route path="register" element={<Register />} />
            <Route path="forgot-password" element={<ForgotPassword />} />
            <Route path="dev/outbox" element={<Outbox />} />
            <Route path="sandbox/bank" element={<SandboxBank />} />
            <Route path="account" element={<RequireLogin><Account /></RequireLogin>} />
            <Route path="org" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><OrgHome /></RequireLogin>} />
            <Route path="org/users" element={<RequireLogin roles={['org_admin']}><Users scope="org" /></RequireLogin>} />
            <Route path="org/offices" element={<RequireLogin roles={['org_admin']}><Offices /></RequireLogin>} />
            <Route path="org/api-keys" element={<RequireLogin roles={['org_admin']}><ApiKeys /></RequireLogin>} />
            <Route path="org/dues" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><Dues /></RequireLogin>} />
            <Route path="org/dues/list" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><DuesTable /></RequireLogin>} />
            <Route path="org/dues/connections/:connectionId" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><DuesConnection /></RequireLogin>} />
            <Route path="org/alerts" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><Alerts /></RequireLogin>} />
            <Route path="org/connections" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><MyConnections /></RequireLogin>} />
            <Route path="org/tag" element={<RequireLogin roles={['org_admin', 'maker']}><TagConnection /></RequireLogin>} />
            <Route path="org/upload" element={<RequireLogin roles={['org_admin', 'maker']}><Upload /></RequireLogin>} />
            <Route path="org/uploads/:jobId" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><UploadJob /></RequireLogin>} />
            <Route path="payments" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><Payments /></RequireLogin>} />
            <Route path="payments/new" element={<RequireLogin roles={['org_admin', 'maker', 'approver']}><NewPayment /></RequireLogin>} />
            <Route path="payments/:id" element={<RequireLogin roles={['org_admin', 'maker', 'approver', 'viewer']}><PaymentStatus /></RequireLogin>} />
            <Route path="discom/tag-requests" element={<RequireLogin roles={['collection_officer', 'discom_admin', 'auditor']}><TagRequests /></RequireLogin>} />
            <Route path="discom/organisations" element={<RequireLogin roles={['collection_officer', 'discom_admin', 'auditor']}><Approvals /></RequireLogin>} />
            <Route path="discom/users" element={<RequireLogin roles={['discom_admin', 'auditor']}><Users scope="discom" /></RequireLogin>} />
            <Route path="discom/postings" element={<RequireLogin roles={['collection_officer', 'accounts', 'discom_admin', 'auditor']}><Postings /></RequireLogin>} />
            <Route path="discom/recon" element={<RequireLogin roles={['collection_officer', 'accounts', 'discom_admin', 'auditor']}><Recon /></RequireLogin>} />
            <Route path="discom/recon/batches/:id" element={<RequireLogin roles={['collection_officer', 'accounts', 'discom_admin', 'auditor']}><ReconBatch /></RequireLogin>} />
            <Route path="discom/collections" element={<RequireLogin roles={['collection_officer', 'accounts', 'discom_admin', 'auditor']}><Collections /></RequireLogin>} />
            <Route path="discom/audit" element={<RequireLogin roles={['discom_admin', 'auditor']}><Audit /></RequireLogin>} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  </StrictMode>,
));
