// earshot survey widget (docs/widget.md): ES2017, no build step, dense for the 7 KB budget
(()=>{'use strict';
const w=window,d=document,loc=location,P='earshot:',DAY=864e5,old=w.earshot,now=Date.now;
if(old&&old.version)return;
const me=d.currentScript||[].find.call(d.scripts,e=>/\/static\/earshot\.js([?#]|$)/.test(e.src));
if(!me)return;
const base=me.src.replace(/\/static\/earshot\.js.*/,''),ver=(me.src.match(/\?[^#]*/)||[''])[0];

// texts, in KEYS order
const KEYS='close next send req bad lo hi copy'.split(' '),TX={
en:'Close|Next|Send|Please answer this question.|Please check this answer.|Not at all likely|Extremely likely|Copy',
sl:'Zapri|Naprej|Pošlji|Prosimo, odgovorite na vprašanje.|Preverite ta odgovor.|Sploh ni verjetno|Zelo verjetno|Kopiraj',
ro:'Închide|Înainte|Trimite|Vă rugăm să răspundeți la întrebare.|Verificați acest răspuns.|Deloc probabil|Foarte probabil|Copiază',
uk:'Закрити|Далі|Надіслати|Будь ласка, дайте відповідь.|Перевірте цю відповідь.|Зовсім малоймовірно|Дуже ймовірно|Копіювати',
no:'Lukk|Neste|Send|Vennligst svar på spørsmålet.|Sjekk dette svaret.|Svært lite sannsynlig|Svært sannsynlig|Kopier'};
const lang=l=>TX[l=(l+'').slice(0,2).toLowerCase().replace('nb','no')]?l:'en';

// storage (JSON values); without it nothing shows by itself
let ls;
try{ls=localStorage;ls.setItem(P,1);ls.removeItem(P)}catch(e){ls=null}
const get=k=>{try{return JSON.parse(ls.getItem(P+k))}catch(e){}},
 put=(k,v)=>{try{v?ls.setItem(P+k,JSON.stringify(v)):ls.removeItem(P+k)}catch(e){}},
 rnd=n=>[...crypto.getRandomValues(new Uint8Array(n))].map(b=>(b+256).toString(16).slice(1)).join('');
let vis=get('visitor'),seen=get('first');
if(!/^v_\w{8,64}$/.test(vis))put('visitor',vis='v_'+rnd(8));
seen>0||put('first',seen=now());
// FNV-1a of visitor id + form id, mod 100
const bucket=s=>{let x=2166136261;for(const c of s)x=Math.imul(x^c.charCodeAt(0),16777619);return(x>>>0)%100};

const h=(tag,a,...kids)=>{
 const e=d.createElement(tag);
 for(const k in a){const v=a[k];v==null||v===false||(/^on/.test(k)?e.addEventListener(k.slice(2),v):e.setAttribute(k,v===true?'':v))}
 e.append(...kids.filter(x=>x||x===0));return e};

const pageOk=({pages:p={}})=>{
 const m=g=>RegExp('^'+g.split('*').map(s=>s.replace(/[\\^$.+?()[\]{}|]/g,'\\$&')).join('.*')+'$').test(loc.pathname),
  inc=p.include||[];
 return!(p.exclude||[]).some(m)&&(!inc[0]||inc.some(m))};
// audience: each listed condition holds
const ua=navigator.userAgent,dev=/iPad|Tablet|Android(?!.*Mobi)/i.test(ua)?'tablet':/Mobi|iPhone|Android/i.test(ua)?'mobile':'desktop',
 has=(m,f)=>Object.keys(m||{}).every(k=>m[k].includes(f(k))),
 aud=(a={})=>(!a.device||a.device.includes(dev))&&(!a.visitor||a.visitor==(now()-seen<18e5?'new':'returning'))&&
  has(a.attributes,k=>attrs[k]+'')&&has(a.query,k=>new URLSearchParams(loc.search).get(k));
const ok=s=>{const t=s.trigger,n=now();
 return ls&&!cur&&pageOk(t)&&aud(t.audience)&&bucket(vis+s.id)<t.sample_percent&&
  n-((get('done')||{})[s.id]||0)>=t.recontact_days*DAY&&n-(get('last')||0)>=DAY};
const done=id=>{const o=get('done')||{};o[id]=now();put('done',o)};
const typing=(a=d.activeElement)=>a&&a.matches('input,textarea,select,[contenteditable]');

let attrs={},list,path,disarms=[],host,root,css,live,cur=null;

// triggers; returns the disarm function
const arm=s=>{
 const t=s.trigger,ev=t.event,off=[],
  on=(o,type,f)=>{o.addEventListener(type,f,{passive:true});off.push(()=>o.removeEventListener(type,f))},
  later=(f,ms)=>{const i=setTimeout(f,ms);off.push(()=>clearTimeout(i))},
  stop=()=>off.splice(0).forEach(f=>f()),
  fire=()=>ok(s)&&(ev!='exit_intent'&&typing()?later(fire,2e3):(stop(),open(s)));
 if(ev=='page_view')later(fire,0);
 if(ev=='delay')later(fire,t.delay_seconds*1e3);
 if(ev=='scroll')on(w,'scroll',()=>{const max=d.documentElement.scrollHeight-innerHeight;
  if(max>0&&scrollY/max*100>=t.scroll_percent)fire()});
 if(ev=='exit_intent')later(()=>{
  if(matchMedia('(hover:none) and (pointer:coarse)').matches){
   let y0=scrollY,t0=now(),gone;
   on(w,'scroll',()=>{const y=scrollY,t1=now();if(t1-t0<100)return;
    if(y<innerHeight&&(y0-y)/(t1-t0)>1)fire();y0=y;t0=t1});
   on(d,'visibilitychange',()=>d.hidden?gone=1:gone&&fire());
  }else on(d,'mouseout',e=>!e.relatedTarget&&e.clientY<5&&e.clientX>=0&&e.clientX<=innerWidth&&fire());
 },1e3);
 return stop};

// surveys for this URL; again on every path change
const load=q=>fetch(base+'/api/v1/surveys'+q).then(r=>r.json()).then(j=>j.surveys,()=>[]),
 route=()=>{
 if(loc.pathname==path)return;
 const p=path=loc.pathname;
 disarms.splice(0).forEach(f=>f());
 list=load('?page='+encodeURIComponent(loc.href));
 list.then(a=>{if(p!=path)return;
  a.forEach(s=>s.trigger.event!='manual'&&ok(s)&&disarms.push(arm(s)));
  disarms[0]&&prep()})};

const prep=()=>(d.body?Promise.resolve():new Promise(r=>d.addEventListener('DOMContentLoaded',r))).then(()=>{
 if(!host){
  root=(host=h('div',{id:'earshot-widget'})).attachShadow({mode:'open'});
  root.append(live=h('p',{class:'sr',role:'status'}));
  css=new Promise(r=>root.append(h('link',{rel:'stylesheet',href:base+'/static/earshot.css'+ver,onload:()=>r(1),onerror:()=>r(0)})))}
 host.isConnected||d.body.append(host);
 return css});

// the visitor's language among the form's and its translations
const tongue=s=>{const a=[s.locale,...Object.keys(s.locales=s.locales||{})];
 for(const l of[attrs.locale,me.dataset.locale,...navigator.languages])for(const x of a)
  if(l&&(x==l||x==l.split('-')[0]||x=='nb'&&/^n[ob]/.test(l)))return x;
 return s.locale},
// the wording variant: picked by weight once per visitor and form, then kept
 variant=s=>{const v=s.variants,o=get('variant')||{};if(!v)return;
  let r=v.find(x=>x.id==o[s.id]);
  if(!r){let n=Math.random()*v.reduce((a,x)=>a+x.weight,0);r=v.find(x=>(n-=x.weight)<0)||v[0];o[s.id]=r.id;put('variant',o)}
  return{id:r.id,v:r}},
// s in translated or varied texts; options keep values, shown as q.shown
 words=(s,x={})=>({...s,title:x.title||s.title,thank_you:x.thank_you||s.thank_you,questions:s.questions.map(q=>
  {const y=(x.questions||{})[q.id]||{};return{...q,label:y.label||q.label,why:y.why||q.why,hint:y.hint||q.hint,shown:y.options}})});

// the dialog (ask: by the visitor; else only announced); cur: the survey on screen and its state
const open=(s,ask)=>{
 if(cur)return;
 const st=cur={s};
 prep().then(styled=>{
  if(cur!=st)return;
  if(!styled)return cur=null;
  const C=tongue(s),V=variant(s),x=C==s.locale?V&&V.v:s.locales[C],L=lang(attrs.locale||me.dataset.locale||C),t={};
  TX[L].split('|').forEach((x,i)=>t[KEYS[i]]=x);
  s=words(s,x);
  Object.assign(st,{s,qs:s.questions,t,L:C,V:V&&V.id,hist:[],ans:{},key:rnd(16),back:d.activeElement,ask,
   tok:s.needs_token&&fetch(base+'/f/'+s.id+'/token').then(r=>r.json()).then(k=>new Promise(r=>setTimeout(r,k.min_fill_seconds*1e3,k)),()=>0),
   start:new Date().toISOString().replace(/\.\d+/,''),page:loc.href,body:h('div')});
  root.append(st.card=h('div',{class:'card',role:'dialog','aria-labelledby':'es-title',lang:C,onkeydown:keys},
   h('div',{class:'head'},h('h2',{id:'es-title'},s.title),
    h('button',{type:'button',class:'x','aria-label':t.close,onclick:()=>close(1)},'×')),
   s.offer&&h('p',{class:'offer'},s.offer),st.body));
  ask||(live.textContent=s.title);
  put('last',now());
  go((st.qs[0]||{}).id)})};

// branching
const after=(q,qs)=>(qs[qs.indexOf(q)+1]||{id:'end'}).id,
 nextId=(q,v,qs)=>{for(const r of q.next||[])if(!r.if||hit(r.if,v))return r.goto;return after(q,qs)},
 hit=(c,v)=>{const has=v!==undefined&&v+''!=='',eq=x=>has&&[].concat(v).some(y=>y+''==x+'');
  return'answered'in c?has==!!c.answered:'equals'in c?eq(c.equals):'in'in c?[].concat(c.in).some(eq):
   typeof v=='number'&&('lte'in c?v<=c.lte:v>=c.gte)},
 find=(st,id)=>st.qs.find(q=>q.id==id),
 go=id=>{const st=cur,q=find(st,id);
  if(!q||st.hist.includes(id))return finish();
  st.hist.push(id);render(q)};

const step=(q,val)=>{const st=cur;
 if(!st||st.sent||st.hist[st.hist.length-1]!=q.id)return;
 const e=val===undefined||val===false?q.required&&'req':val!==val&&'bad';
 if(e)return fail(e);
 val===undefined?delete st.ans[q.id]:st.ans[q.id]=val;
 const n=nextId(q,val,st.qs);
 n=='end'?finish():go(n)};
const fail=e=>{cur.err.textContent=cur.t[e]||e;cur.ctl.setAttribute('aria-invalid','true');cur.ctl.focus()};

const render=q=>{
 const st=cur,t=st.t,v=st.ans[q.id],ty=q.type,rs=q.next||[],
  why=q.why&&h('p',{class:'why',id:'es-why'},q.why),desc=(why?'es-why ':'')+'es-err',
  legend=h('legend',{},q.label);
 let main,read,first;
 if(/^(nps|rating|single_choice)$/.test(ty)){
  const vals=ty=='single_choice'?q.options:[...Array(ty=='nps'?11:q.scale||5).keys()].map(i=>i+(ty!='nps')),
   btns=vals.map((x,i)=>h('button',{type:'button','aria-pressed':''+(x===v),onclick:()=>step(q,x)},(q.shown||vals)[i]));
  first=btns[vals.indexOf(v)]||btns[0];
  const rove=ty!='single_choice'&&(e=>{const k=e.key,n=btns.indexOf(e.target)+(/^Arrow[RD]/.test(k)||-/^Arrow/.test(k));
   /^Arrow/.test(k)&&e.preventDefault(btns[n]&&tab(btns,btns[n]).focus())});
  rove&&tab(btns,first);// roving tabindex
  main=h('fieldset',{'aria-describedby':desc},legend,h('div',{class:'opts '+ty,onkeydown:rove},...btns),
   ty=='nps'&&h('div',{class:'ends','aria-hidden':'true'},h('span',{},'0: '+t.lo),h('span',{},'10: '+t.hi)));
  read=()=>v;
 }else if(/^(multi_choice|consent)$/.test(ty)){
  const one=ty=='consent',boxes=(one?[q.label]:q.options).map(o=>h('input',{type:'checkbox',value:o,
    checked:one?v:[].concat(v).includes(o),'aria-describedby':one&&desc})),
   rows=boxes.map((b,i)=>h('label',{class:'check'},b,h('span',{},one?b.value:(q.shown||q.options)[i])));
  main=one?h('div',{},...rows):h('fieldset',{'aria-describedby':desc},legend,...rows);
  read=(a=boxes.filter(b=>b.checked).map(b=>b.value))=>one?!!a[0]:a[0]?a:undefined;
  first=boxes[0];
 }else{
  const long=ty=='long_text',text=long||ty=='text';
  first=h(long?'textarea':'input',{id:'es-in',
   type:!long&&({email:'email',phone:'tel',date:'date',number:'number'}[ty]||'text'),
   autocomplete:{email:'email',phone:'tel'}[ty],maxlength:text&&(q.max_length||2e3),
   min:q.min,max:q.max,placeholder:q.hint,required:q.required,'aria-describedby':desc});
  if(v!==undefined)first.value=v;
  main=h('div',{},h('label',{for:'es-in'},q.label),first);
  read=(s=first.value,x=first.validity)=>x.badInput||x.typeMismatch?NaN:!s.trim()?undefined:ty=='number'?+s:text?s:s.trim();
 }
 // progress: so far, plus where the known answers lead
 let n=st.hist.length,m=n,id=nextId(q,v,st.qs),x,g=0;
 while((x=find(st,id))&&g++<99){m++;id=nextId(x,st.ans[x.id],st.qs)}
 st.err=h('p',{class:'err',id:'es-err',role:'alert'});
 st.ctl=first;
 const f=inside(st);
 st.body.textContent='';
 st.body.append(h('form',{novalidate:true,onsubmit:e=>{e.preventDefault();step(q,read())}},
  m>1&&h('p',{class:'prog'},n+' / '+m),main,why,st.err,
  h('div',{class:'nav'},h('button',{type:'submit'},[...rs.map(r=>r.goto),rs.some(r=>!r.if)||after(q,st.qs)].some(x=>find(st,x))?t.next:t.send))));
 f&&first.focus()};

// focus moves if asked or already inside
const inside=st=>st.ask||st.card.contains(root.activeElement),
 tab=(a,b)=>(a.map(x=>x.tabIndex=x==b?0:-1),b),
 keys=e=>e.key=='Escape'&&(e.stopPropagation(),close(1));

const finish=()=>{const st=cur;
 st.sent=1;done(st.s.id);
 submit(st).then(({s,b})=>{
  if(cur!=st)return;
  if(s==422){
   st.sent=0;st.key=rnd(16);
   const f=b.fields||{},id=st.hist.find(x=>f[x]);
   if(id){let x;while((x=st.hist.pop())!=id)delete st.ans[x];go(id)}
   fail(id?f[id]+'':b.message||'bad');
  }else s<300||again(s)?thanks(b):fail(b.message||'bad')})};

const thanks=b=>{const st=cur,t=st.t,msg=h('p',{class:'thanks',tabindex:-1},b.thank_you||st.s.thank_you);
 const f=inside(st);st.over=1;st.body.textContent='';
 st.body.append(msg,...(b.offers||[]).map((o,i)=>{
  const code=h('input',{readonly:true,value:o.code,'aria-labelledby':'es-o'+i}),said=h('span',{'aria-live':'polite'});
  return h('div',{class:'offer'},h('p',{id:'es-o'+i},o.text),
   h('div',{},code,h('button',{type:'button',onclick:()=>
    navigator.clipboard.writeText(o.code).then(()=>said.textContent='✓',()=>code.select())},t.copy)),said)}));
 f&&msg.focus()};

// by the visitor: dismissed; answers so far go out as partial
const close=byVisitor=>{const st=cur;
 cur=null;
 if(!st||!st.card)return;
 live.textContent='';
 const f=inside(st);
 st.card.remove();
 const some=!st.sent&&!st.over&&Object.keys(st.ans)[0];
 if(byVisitor||some)done(st.s.id);
 if(some)submit(st,true);
 f&&st.back&&st.back.isConnected&&st.back.focus()};

// delivery through the earshot:queue outbox
const again=s=>!s||s==408||s==429||s>499,
 queue=f=>{const q=f(get('queue')||[]);put('queue',q[0]&&q);return q},
 submit=async(st,partial)=>{
  const meta=Object.assign({},attrs,{page:st.page,visitor:vis,locale:st.L,variant:st.V,partial}),
   j={u:base+'/api/v1/forms/'+st.s.id+'/responses',k:st.key,n:0,t:now(),
    b:JSON.stringify({answers:st.ans,meta,started_at:st.start,idempotency_key:st.key,timing_token:(await st.tok||{}).token})};
  queue(q=>q.filter(x=>x.k!=j.k).concat(j).slice(-50));
  return send(j)},
 fly={},
 send=j=>fly[j.k]||(fly[j.k]=fetch(j.u,{method:'POST',body:j.b,keepalive:true})
  .then(r=>r.json().catch(()=>0).then(b=>({s:r.status,b})),()=>({s:0}))
  .then(res=>{
   delete fly[j.k];
   const b=res.b=Object(res.b),retry=again(res.s);
   queue(q=>q.filter(x=>x.k!=j.k||retry&&Object.assign(x,{n:x.n+1,
    at:now()+Math.max((b.retry_after||0)*1e3,Math.min(2e3*2**x.n,6e5)*(.5+Math.random()))})));
   plan();return res}));
let timer;
const plan=(q=get('queue'))=>{clearTimeout(timer);q&&(timer=setTimeout(flush,Math.max(1e3,Math.min(...q.map(x=>x.at||0))-now())))},
 flush=all=>{const t=now();
  queue(q=>q.filter(x=>t-x.t<7*DAY)).forEach(x=>(all===true||!(x.at>t))&&send(x));plan()};

const api=w.earshot={version:1,
 show:id=>{const f=a=>a.find(x=>x.id==id);list.then(a=>f(a)||load('').then(f)).then(s=>s&&open(s,1))},
 identify:o=>Object.assign(attrs,o),
 hide:()=>close(),
 q:{push:c=>run(c)}},
 run=([m,...args])=>api[m]&&api[m](...args);
['pushState','replaceState'].forEach(m=>{const f=history[m];
 history[m]=function(){const r=f.apply(this,arguments);setTimeout(route);return r}});
addEventListener('popstate',route);
addEventListener('online',()=>flush(true));
addEventListener('pagehide',()=>close());
d.addEventListener('click',e=>{const el=e.target.closest&&e.target.closest('[data-earshot-show]');
 el&&(e.preventDefault(),api.show(el.dataset.earshotShow))});
route();flush(true);
[].concat(old&&old.q||[]).forEach(run);
})();
